import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from jobs import services
from jobs.exceptions import InvalidJob
from jobs.models import IdempotencyRecord, Job
from jobs.services import idempotency
from jobs.services.idempotency import idempotency_prune
from tests.factories import UserFactory

LIST = reverse("api:job-list")
BATCH = reverse("api:job-batch")
UPDATES = reverse("api:update-create")


def post(client, url, body, key, **extra):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


@pytest.mark.django_db
def test_the_same_key_replays_the_first_answer_and_creates_one_job(api_client):
    first = post(api_client, LIST, {"handler": "jobs.noop"}, "key-1")
    again = post(api_client, LIST, {"handler": "jobs.noop"}, "key-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422(api_client):
    post(api_client, LIST, {"handler": "jobs.noop"}, "key-1")
    response = post(api_client, LIST, {"handler": "jobs.noop", "priority": 5}, "key-1")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in body["errors"]
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_is_a_422(api_client):
    post(api_client, LIST, {"handler": "jobs.noop"}, "key-1")
    response = post(api_client, BATCH, {"jobs": [{"handler": "jobs.noop"}]}, "key-1")
    assert response.status_code == 422
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_user(api_client):
    other = APIClient()
    other.force_authenticate(UserFactory())
    post(api_client, LIST, {"handler": "jobs.noop"}, "shared")
    response = post(other, LIST, {"handler": "jobs.noop"}, "shared")
    assert response.status_code == 202
    assert "Idempotent-Replayed" not in response
    assert Job.objects.count() == 2


@pytest.mark.django_db
def test_without_a_key_every_post_creates_a_job(api_client):
    api_client.post(LIST, {"handler": "jobs.noop"}, format="json")
    api_client.post(LIST, {"handler": "jobs.noop"}, format="json")
    assert Job.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_bad_key_is_a_400_naming_the_header(api_client, key):
    response = post(api_client, LIST, {"handler": "jobs.noop"}, key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_key_of_255_printable_characters_is_fine(api_client):
    assert post(api_client, LIST, {"handler": "jobs.noop"}, "k" * 254 + "~").status_code == 202


@pytest.mark.django_db
def test_an_error_answer_is_not_stored_so_the_key_can_be_used_again(api_client):
    bad = post(api_client, LIST, {"handler": "jobs.noop", "args": {"nope": 1}}, "key-1")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert post(api_client, LIST, {"handler": "jobs.noop"}, "key-1").status_code == 202


@pytest.mark.django_db
def test_after_the_window_the_key_creates_a_new_job(api_client, settings):
    post(api_client, LIST, {"handler": "jobs.noop"}, "key-1")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(seconds=settings.JOBS_IDEMPOTENCY_SECONDS + 1))
    response = post(api_client, LIST, {"handler": "jobs.noop", "priority": 1}, "key-1")
    assert response.status_code == 202
    assert Job.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_prune_deletes_records_past_the_window(user, settings):
    old = IdempotencyRecord.objects.create(user=user, key="old", fingerprint="x", status_code=202)
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.JOBS_IDEMPOTENCY_SECONDS + 1)
    )
    IdempotencyRecord.objects.create(user=user, key="new", fingerprint="x", status_code=202)
    assert idempotency_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_anonymous_with_a_key_is_refused_as_without(client):
    response = client.post(LIST, {"handler": "jobs.noop"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code in (401, 403)
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_a_batch_replays_too(api_client):
    body = {"jobs": [{"handler": "jobs.noop"}, {"handler": "jobs.noop"}]}
    first = post(api_client, BATCH, body, "batch-1")
    again = post(api_client, BATCH, body, "batch-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert Job.objects.count() == 2


@pytest.fixture
def feed_client(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_feed", "change_product"]))
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_feed_upload_replays_too(feed_client):
    client = feed_client
    body = {"rows": [{"sku": "A-1", "price": "9.90", "stock": 3}]}
    first = post(client, UPDATES, body, "feed-1")
    again = post(client, UPDATES, body, "feed-1")
    assert first.status_code == 202, first.json()
    assert again.json() == first.json()
    assert Job.objects.count() == 1
    assert post(client, UPDATES, {"rows": [{"sku": "B-1", "price": "1", "stock": 1}]}, "feed-1").status_code == 422


def test_a_multipart_feed_file_replays_and_another_file_is_a_422(feed_client):
    def upload(content: bytes, key: str):
        feed = SimpleUploadedFile("feed.csv", content, content_type="text/csv")
        return feed_client.post(UPDATES, {"file": feed}, format="multipart", HTTP_IDEMPOTENCY_KEY=key)

    first = upload(b"sku,price,stock\nA-1,9.90,3\n", "file-1")
    again = upload(b"sku,price,stock\nA-1,9.90,3\n", "file-1")
    assert first.status_code == 202, first.json()
    assert again.json() == first.json()
    assert upload(b"sku,price,stock\nA-1,9.95,3\n", "file-1").status_code == 422
    assert Job.objects.count() == 1


def race(user, *, first_fails: bool = False) -> dict:
    """Two requests with one key: the first inserts its record and its job, then holds its transaction
    open until the second has looked for a stored answer and found none; the second must then wait on
    the unique index (PostgreSQL) or the write lock (SQLite). `first_fails`: the first then raises."""
    first_in_work, second_looked = threading.Event(), threading.Event()
    real_stored, real_enqueue = idempotency._stored, services.job_enqueue

    def stored(**kwargs):
        answer = real_stored(**kwargs)
        if threading.current_thread().name == "second":
            second_looked.set()
        return answer

    def enqueue_and_hold(**kwargs):
        job = real_enqueue(**kwargs)
        if threading.current_thread().name == "first":
            first_in_work.set()
            assert second_looked.wait(timeout=30)
            if first_fails:
                raise InvalidJob({"args": ["failed on purpose"]})
        return job

    answers = {}

    def request(name: str) -> None:
        try:
            if name == "second":
                assert first_in_work.wait(timeout=30)
            client = APIClient()
            client.force_authenticate(user)
            answers[name] = post(client, LIST, {"handler": "jobs.noop"}, "race")
        finally:
            connection.close()

    with mock.patch.object(idempotency, "_stored", stored), mock.patch.object(services, "job_enqueue", enqueue_and_hold):
        threads = [threading.Thread(target=request, args=(name,), name=name) for name in ("first", "second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return answers


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_create_one_job(settings):
    settings.API_THROTTLE_ENQUEUE = ""  # its counter is a write to the database cache: it would wait first
    answers = race(UserFactory())
    assert answers["first"].status_code == answers["second"].status_code == 202
    assert answers["second"].json() == answers["first"].json()
    assert answers["second"]["Idempotent-Replayed"] == "true"
    assert Job.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_when_the_first_of_two_concurrent_requests_fails_the_second_does_the_work(settings):
    settings.API_THROTTLE_ENQUEUE = ""
    answers = race(UserFactory(), first_fails=True)
    assert answers["first"].status_code == 400
    assert answers["second"].status_code == 202
    assert "Idempotent-Replayed" not in answers["second"]
    assert list(Job.objects.values_list("pk", flat=True)) == [answers["second"].json()["id"]]
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_a_malformed_body_with_a_key_is_a_400_and_stores_nothing(api_client):
    response = api_client.post(LIST, "{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400
    assert not IdempotencyRecord.objects.exists()
