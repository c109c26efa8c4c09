from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jobs import services
from jobs.exceptions import DuplicateJob
from jobs.models import Job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db
BATCH = reverse("api:job-batch")
LIST = reverse("api:job-list")


def test_a_batch_answers_202_with_every_job(api_client):
    body = {"jobs": [{"handler": "jobs.noop"}, {"handler": "jobs.noop", "priority": 7, "unique_key": "b"}]}
    response = api_client.post(BATCH, body, format="json")
    assert response.status_code == 202
    answer = response.json()
    jobs = list(Job.objects.order_by("id"))
    assert [item["id"] for item in answer["jobs"]] == [job.pk for job in jobs]
    assert answer["jobs"][1]["status_url"].endswith(reverse("api:job-detail", args=[jobs[1].pk]))
    assert {job.trace_id for job in jobs} == {answer["trace_id"]}
    assert jobs[1].priority == 7 and jobs[1].unique_key == "b"
    assert all(job.requested_by == api_client.user and job.status == Job.Status.QUEUED for job in jobs)


def test_a_batch_is_one_insert(user):
    with CaptureQueriesContext(connection) as queries:
        services.job_enqueue_many(jobs=[{"handler": "jobs.noop"}] * 50, requested_by=user)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT INTO jobs_job")]
    assert len(inserts) == 1
    assert Job.objects.count() == 50


def test_one_bad_item_refuses_the_whole_batch_naming_it(api_client):
    body = {"jobs": [{"handler": "jobs.noop"}, {"handler": "jobs.noop", "args": {"x": 1}}, {"handler": "nope"}]}
    response = api_client.post(BATCH, body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["jobs"]
    assert set(errors) == {"1", "2"}
    assert "args" in errors["1"] and "handler" in errors["2"]
    assert not Job.objects.exists()


def test_a_badly_shaped_item_is_a_400_naming_it(api_client):
    response = api_client.post(BATCH, {"jobs": [{"handler": "jobs.noop"}, {"priority": "high", "x": 1}]}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["jobs"]
    assert set(errors["1"]) == {"x"} or {"handler", "priority"} <= set(errors["1"])
    assert not Job.objects.exists()


@pytest.mark.parametrize("body", [{}, {"jobs": []}, {"jobs": "x"}, {"jobs": [1]}, [], {"jobs": [], "x": 1}])
def test_a_bad_batch_body_is_a_400(api_client, body):
    response = api_client.post(BATCH, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_batch_over_the_limit_is_a_400(api_client, settings):
    settings.JOBS_BATCH_MAX_JOBS = 3
    response = api_client.post(BATCH, {"jobs": [{"handler": "jobs.noop"}] * 4}, format="json")
    assert response.status_code == 400
    assert "jobs" in response.json()["errors"]


def test_an_item_the_user_may_not_enqueue_is_a_403_naming_it(api_client):
    response = api_client.post(BATCH, {"jobs": [{"handler": "jobs.noop"}, {"handler": "jobs.sleep"}]}, format="json")
    assert response.status_code == 403
    assert set(response.json()["errors"]["jobs"]) == {"1"}
    assert not Job.objects.exists()


def test_staff_may_enqueue_staff_handlers_in_a_batch(staff_client):
    response = staff_client.post(BATCH, {"jobs": [{"handler": "jobs.sleep", "args": {"seconds": 0}}]}, format="json")
    assert response.status_code == 202


def test_anonymous_is_refused(client):
    response = client.post(BATCH, {"jobs": [{"handler": "jobs.noop"}]}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_the_quota_counts_the_whole_batch(api_client, settings):
    settings.JOBS_MAX_ACTIVE_PER_USER = 3
    JobFactory(requested_by=api_client.user)
    response = api_client.post(BATCH, {"jobs": [{"handler": "jobs.noop"}] * 3}, format="json")
    assert response.status_code == 429
    assert Job.objects.count() == 1
    assert api_client.post(BATCH, {"jobs": [{"handler": "jobs.noop"}] * 2}, format="json").status_code == 202


def test_a_unique_key_held_by_an_active_job_is_a_409_naming_the_item(api_client):
    holder = JobFactory(unique_key="k")
    body = {"jobs": [{"handler": "jobs.noop"}, {"handler": "jobs.noop", "unique_key": "k"}]}
    response = api_client.post(BATCH, body, format="json")
    assert response.status_code == 409
    assert str(holder.pk) in response.json()["errors"]["jobs"]["1"]["unique_key"][0]
    assert Job.objects.count() == 1


def test_a_unique_key_given_twice_in_a_batch_is_a_409(api_client):
    body = {"jobs": [{"handler": "jobs.noop", "unique_key": "k"}, {"handler": "jobs.noop", "unique_key": "k"}]}
    response = api_client.post(BATCH, body, format="json")
    assert response.status_code == 409
    assert set(response.json()["errors"]["jobs"]) == {"0", "1"}
    assert not Job.objects.exists()


# --- unique by arguments ------------------------------------------------------------------------


@pytest.fixture
def unique_handler(handler_registry):
    def report(ctx, *, day: str, region: str = "eu") -> None:
        """A report per day and region."""

    return handler_registry.register_handler("tests.report", report, unique_by_args=True)


def test_a_unique_by_args_handler_refuses_an_identical_active_job(api_client, unique_handler):
    first = api_client.post(LIST, {"handler": "tests.report", "args": {"day": "2026-12-01", "region": "eu"}},
                            format="json")  # fmt: skip
    again = api_client.post(LIST, {"handler": "tests.report", "args": {"region": "eu", "day": "2026-12-01"}},
                            format="json")  # fmt: skip
    assert first.status_code == 202
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate"
    assert again.json()["existing_id"] == first.json()["id"]
    job = Job.objects.get()
    assert job.unique_key.startswith("tests.report:") and len(job.unique_key) == len("tests.report:") + 64


def test_a_unique_by_args_handler_takes_other_arguments_and_explicit_keys(user, unique_handler):
    services.job_enqueue(handler="tests.report", args={"day": "2026-12-01"}, requested_by=user)
    services.job_enqueue(handler="tests.report", args={"day": "2026-12-02"}, requested_by=user)
    services.job_enqueue(handler="tests.report", args={"day": "2026-12-01"}, unique_key="mine", requested_by=user)
    assert Job.objects.count() == 3


def test_a_unique_by_args_job_can_run_again_once_finished(user, unique_handler):
    job = services.job_enqueue(handler="tests.report", args={"day": "2026-12-01"}, requested_by=user)
    with pytest.raises(DuplicateJob):
        services.job_enqueue(handler="tests.report", args={"day": "2026-12-01"}, requested_by=user)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    services.job_enqueue(handler="tests.report", args={"day": "2026-12-01"}, requested_by=user)


def test_a_batch_refuses_unique_by_args_duplicates(api_client, unique_handler):
    item = {"handler": "tests.report", "args": {"day": "2026-12-01"}}
    response = api_client.post(BATCH, {"jobs": [item, item]}, format="json")
    assert response.status_code == 409
    assert not Job.objects.exists()


def test_handlers_are_not_unique_by_args_by_default(user):
    services.job_enqueue(handler="jobs.noop", requested_by=user)
    services.job_enqueue(handler="jobs.noop", requested_by=user)
    assert list(Job.objects.values_list("unique_key", flat=True)) == [None, None]



def test_every_field_of_every_job_is_stored_as_built(user):
    run_after = timezone.now() + timedelta(minutes=5, microseconds=123)
    items = [
        {"handler": "jobs.noop"},
        {"handler": "jobs.noop", "queue": "default", "priority": -3, "max_attempts": 7, "timeout": 11,
         "run_after": run_after, "deadline": run_after + timedelta(hours=1), "unique_key": "u"},
    ]  # fmt: skip
    jobs = services.job_enqueue_many(jobs=items, requested_by=user)
    fields = [field.attname for field in Job._meta.concrete_fields]
    for job in jobs:
        stored = Job.objects.get(pk=job.pk)
        assert {name: getattr(stored, name) for name in fields} == {name: getattr(job, name) for name in fields}
    assert Job.objects.filter(result__isnull=True, error__isnull=True, deadline__isnull=True).count() == 1
    assert [job.pk for job in jobs] == sorted(job.pk for job in jobs)
