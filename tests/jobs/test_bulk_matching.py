from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job, JobEvent
from tests.factories import JobFactory, api_client_for, staff_with

pytestmark = pytest.mark.django_db
RETRY = reverse("api:job-retry-matching")
CANCEL = reverse("api:job-cancel-matching")
FAILED, QUEUED, RUNNING = Job.Status.FAILED, Job.Status.QUEUED, Job.Status.RUNNING


def statuses() -> list[str]:
    return list(Job.objects.order_by("id").values_list("status", flat=True))


def test_retry_by_filter_retries_the_matching_failed_jobs_and_counts(api_client):
    mine = {"requested_by": api_client.user}
    JobFactory(status=FAILED, handler="jobs.noop", **mine)
    JobFactory(status=FAILED, handler="jobs.noop", **mine)
    JobFactory(status=FAILED, handler="jobs.sleep", **mine)
    JobFactory(status=QUEUED, handler="jobs.noop", **mine)
    response = api_client.post(RETRY, {"status": "failed", "handler": "jobs.noop"}, format="json")
    assert response.status_code == 202
    assert response.json() == {"matched": 2, "limit": 10000, "done": 2, "skipped": {}}
    assert statuses() == [QUEUED, QUEUED, FAILED, QUEUED]
    events = JobEvent.objects.filter(kind=JobEvent.Kind.RETRIED)
    assert sorted(events.values_list("actor", flat=True)) == [api_client.user.pk] * 2
    assert Job.objects.filter(status=QUEUED, attempts=0, error__isnull=True, finished_at__isnull=True).count() == 3


def test_cancel_by_filter_cancels_the_active_jobs_of_a_queue(api_client):
    mine = {"requested_by": api_client.user}
    JobFactory(status=QUEUED, **mine)
    JobFactory(status=RUNNING, **mine)
    JobFactory(status=FAILED, **mine)
    response = api_client.post(CANCEL, {"queue": "default"}, format="json")
    assert response.status_code == 202
    assert response.json()["matched"] == 2 and response.json()["done"] == 2
    assert statuses() == [Job.Status.CANCELLED, RUNNING, FAILED]
    assert Job.objects.filter(status=RUNNING, cancel_requested_at__isnull=False).count() == 1
    kinds = sorted(JobEvent.objects.values_list("kind", flat=True))
    assert kinds == [JobEvent.Kind.CANCEL_REQUESTED, JobEvent.Kind.CANCELLED]


def test_a_time_range_selects_by_creation(api_client):
    now = timezone.now()
    JobFactory(status=FAILED, requested_by=api_client.user, created_at=now - timedelta(days=2))
    JobFactory(status=FAILED, requested_by=api_client.user, created_at=now)
    body = {"status": ["failed"], "created_after": (now - timedelta(days=1)).isoformat()}
    assert api_client.post(RETRY, body, format="json").json()["done"] == 1
    assert statuses() == [FAILED, QUEUED]


def test_an_ordinary_user_acts_on_their_own_jobs_only(api_client):
    JobFactory(status=FAILED, requested_by=api_client.user)
    JobFactory(status=FAILED)  # someone else's: not even counted
    response = api_client.post(RETRY, {"status": "failed"}, format="json")
    assert response.json() == {"matched": 1, "limit": 10000, "done": 1, "skipped": {}}
    assert statuses() == [QUEUED, FAILED]


def test_staff_without_the_permission_is_refused():
    JobFactory(status=FAILED)
    response = api_client_for(staff_with("view_job")).post(RETRY, {"status": "failed"}, format="json")
    assert response.status_code == 403
    assert statuses() == [FAILED]


def test_staff_with_the_permission_acts_on_everyones_jobs():
    JobFactory(status=FAILED)
    JobFactory(status=QUEUED, handler="jobs.sleep")
    assert api_client_for(staff_with("retry_job")).post(RETRY, {"status": "failed"}, format="json").json()["done"] == 1
    body = {"status": "queued", "handler": "jobs.sleep"}
    assert api_client_for(staff_with("cancel_job")).post(CANCEL, body, format="json").json()["done"] == 1
    assert statuses() == [QUEUED, Job.Status.CANCELLED]


def test_the_retry_permission_does_not_allow_cancel():
    JobFactory(status=QUEUED)
    assert api_client_for(staff_with("retry_job")).post(CANCEL, {"status": "queued"}, format="json").status_code == 403
    assert statuses() == [QUEUED]


def test_anonymous_is_refused():
    JobFactory(status=FAILED)
    assert api_client_for(None).post(RETRY, {"status": "failed"}, format="json").status_code in (401, 403)
    assert statuses() == [FAILED]


def test_the_limit_bounds_each_call_and_says_how_many_matched(api_client, settings):
    settings.JOBS_BULK_MAX_JOBS = 2
    for _ in range(3):
        JobFactory(status=FAILED, requested_by=api_client.user)
    response = api_client.post(RETRY, {"status": "failed"}, format="json")
    assert response.json() == {"matched": 3, "limit": 2, "done": 2, "skipped": {}}
    assert statuses() == [QUEUED, QUEUED, FAILED]


def test_a_taken_unique_key_is_skipped_with_its_reason(api_client):
    JobFactory(status=FAILED, unique_key="k", requested_by=api_client.user)
    JobFactory(status=QUEUED, unique_key="k")
    response = api_client.post(RETRY, {"status": "failed"}, format="json")
    assert response.json()["skipped"] == {"unique key taken": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"status": ""}, "status"),
        ({"status": "failed", "created_before": ""}, "created_before"),  # blank: not "no filter"
        ({"status": "failed", "handler": None}, "handler"),
        ({"status": "nope"}, "status"),
        ({"status": 5}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-01-01T00:00:00+99:00"}, "created_before"),
        ({"owner": "me"}, "owner"),
        ([1, 2], "non_field_errors"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(api_client, body, field):
    JobFactory(status=FAILED, requested_by=api_client.user)
    response = api_client.post(RETRY, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert statuses() == [FAILED]


def test_a_form_body_works_too(api_client):
    JobFactory(status=FAILED, requested_by=api_client.user)
    JobFactory(status=Job.Status.CANCELLED, requested_by=api_client.user)
    response = api_client.post(RETRY, {"status": ["failed", "cancelled"]})
    assert response.status_code == 202 and response.json()["done"] == 2


def test_jobs_are_taken_in_chunks_and_all_counted(api_client, monkeypatch):
    from jobs.services import control

    monkeypatch.setattr(control, "MATCHING_CHUNK", 2)
    for _ in range(5):
        JobFactory(status=FAILED, requested_by=api_client.user)
    JobFactory(status=FAILED, unique_key="k", requested_by=api_client.user)
    JobFactory(status=QUEUED, unique_key="k", requested_by=api_client.user)
    response = api_client.post(RETRY, {"status": "failed"}, format="json")
    assert response.json() == {"matched": 6, "limit": 10000, "done": 5, "skipped": {"unique key taken": 1}}
