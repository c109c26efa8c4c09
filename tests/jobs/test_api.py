import json

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobs import runner
from jobs.models import Job
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = reverse("api:job-list")


def detail(job):
    return reverse("api:job-detail", args=[job.pk])


def test_enqueue_answers_202_with_the_job_and_where_to_poll_it(api_client):
    response = api_client.post(LIST, {"handler": "jobs.noop"}, format="json")
    assert response.status_code == 202
    body = response.json()
    job = Job.objects.get(pk=body["id"])
    assert body["status"] == "queued"
    assert body["status_url"].endswith(detail(job))
    assert response["Location"] == body["status_url"]
    assert job.requested_by == api_client.user
    assert body["trace_id"] == job.trace_id


def test_enqueue_takes_the_trace_id_from_traceparent(api_client):
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = api_client.post(LIST, {"handler": "jobs.noop"}, format="json", HTTP_TRACEPARENT=header)
    assert response.json()["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_enqueue_with_run_options(api_client):
    body = {"handler": "jobs.noop", "queue": "default", "max_attempts": 5, "timeout": 9, "delay": 30,
            "priority": 3, "unique_key": "once"}  # fmt: skip
    response = api_client.post(LIST, body, format="json")
    assert response.status_code == 202
    job = Job.objects.get()
    assert (job.max_attempts, job.timeout, job.priority, job.unique_key) == (5, 9, 3, "once")
    assert job.run_after > job.created_at  # delayed


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"handler": "no.such"}, "handler"),
        ({}, "handler"),
        ({"handler": "jobs.sleep", "args": {"bogus": 1}}, "args"),
        ({"handler": "jobs.sleep", "args": "text"}, "args"),
        ({"handler": "jobs.noop", "max_attempts": "many"}, "max_attempts"),
        ({"handler": "jobs.noop", "max_attempts": 0}, "max_attempts"),
        ({"handler": "jobs.noop", "timeout": 10**9}, "timeout"),
        ({"handler": "jobs.noop", "delay": -1}, "delay"),
        ({"handler": "jobs.noop", "run_after": "yesterday"}, "run_after"),
        ({"handler": "jobs.noop", "delay": 1, "run_after": "2030-01-01T00:00:00Z"}, "run_after"),
        ({"handler": "jobs.noop", "queue": "nowhere"}, "queue"),
    ],
)
def test_bad_enqueue_input_is_a_400_with_field_messages(staff_client, body, field):
    response = staff_client.post(LIST, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Job.objects.exists()


def test_malformed_json_is_a_400(api_client):
    response = api_client.post(LIST, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_an_oversized_body_is_a_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"handler": "jobs.noop", "args": {"x": "y" * 2000}})
    response = api_client.post(LIST, body, content_type="application/json")
    assert response.status_code == 413
    assert not Job.objects.exists()


def test_a_duplicate_unique_key_is_a_409_naming_the_active_job(api_client):
    first = api_client.post(LIST, {"handler": "jobs.noop", "unique_key": "k"}, format="json").json()
    response = api_client.post(LIST, {"handler": "jobs.noop", "unique_key": "k"}, format="json")
    assert response.status_code == 409
    assert response.json()["existing_id"] == first["id"]


def test_anonymous_requests_are_refused():
    assert APIClient().get(LIST).status_code in (401, 403)
    assert APIClient().post(LIST, {"handler": "jobs.noop"}, format="json").status_code in (401, 403)


def test_token_auth_end_to_end():
    UserFactory(username="ann")
    client = APIClient()
    response = client.post(reverse("api:auth-token"), {"username": "ann", "password": "pass-word-123"})
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.post(LIST, {"handler": "jobs.noop"}, format="json").status_code == 202


def test_token_with_a_wrong_password_is_a_400(user):
    response = APIClient().post(reverse("api:auth-token"), {"username": user.username, "password": "nope"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["errors"]


def test_users_see_their_own_jobs_only_and_staff_see_all(api_client, staff_client):
    mine = JobFactory(requested_by=api_client.user)
    theirs = JobFactory()
    listed = [job["id"] for job in api_client.get(LIST).json()["results"]]
    assert listed == [mine.pk]
    assert api_client.get(detail(theirs)).status_code == 404
    assert api_client.post(reverse("api:job-cancel", args=[theirs.pk])).status_code == 404
    assert {job["id"] for job in staff_client.get(LIST).json()["results"]} == {mine.pk, theirs.pk}
    assert staff_client.get(detail(theirs)).status_code == 200


def test_unknown_job_is_a_404(api_client):
    assert api_client.get(reverse("api:job-detail", args=[999])).status_code == 404
    assert api_client.post(reverse("api:job-retry", args=[999])).status_code == 404


def test_list_is_cursor_paginated_newest_first_and_filtered(staff_client, django_assert_max_num_queries):
    jobs = [JobFactory(status=Job.Status.FAILED if i % 2 else Job.Status.SUCCEEDED) for i in range(5)]
    with django_assert_max_num_queries(3):
        page = staff_client.get(LIST, {"page_size": 2}).json()
    assert [j["id"] for j in page["results"]] == [jobs[4].pk, jobs[3].pk]
    following = staff_client.get(page["next"]).json()
    assert [j["id"] for j in following["results"]] == [jobs[2].pk, jobs[1].pk]
    failed = staff_client.get(LIST, {"status": "failed"}).json()["results"]
    assert {j["id"] for j in failed} == {jobs[1].pk, jobs[3].pk}
    assert staff_client.get(LIST, {"handler": "other"}).json()["results"] == []


def test_list_filter_with_a_bad_value_is_a_400(staff_client):
    assert staff_client.get(LIST, {"status": "bogus"}).status_code == 400
    assert staff_client.get(LIST, {"created_after": "not-a-date"}).status_code == 400


def test_detail_shows_progress_result_and_history(staff_client):
    job_id = staff_client.post(LIST, {"handler": "jobs.sleep", "args": {"seconds": 0, "steps": 2}}, format="json").json()["id"]
    runner.run(job_id)
    body = staff_client.get(reverse("api:job-detail", args=[job_id])).json()
    assert body["status"] == "succeeded"
    assert body["progress"]["done"] == 2
    assert body["result"] == {"slept": 0}
    assert [e["kind"] for e in body["events"]] == ["started", "succeeded"]


def test_cancel_and_retry_through_the_api(api_client):
    job_id = api_client.post(LIST, {"handler": "jobs.noop"}, format="json").json()["id"]
    response = api_client.post(reverse("api:job-cancel", args=[job_id]))
    assert (response.status_code, response.json()["status"]) == (202, "cancelled")
    assert api_client.post(reverse("api:job-cancel", args=[job_id])).status_code == 409
    response = api_client.post(reverse("api:job-retry", args=[job_id]))
    assert (response.status_code, response.json()["status"]) == (202, "queued")
    assert api_client.post(reverse("api:job-retry", args=[job_id])).status_code == 409


def test_schema_and_offline_docs_are_served(api_client):
    schema = api_client.get(reverse("schema"), {"format": "json"})
    assert schema.status_code == 200
    assert "/api/v1/jobs/" in schema.json()["paths"]
    docs = api_client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert b"drf_spectacular_sidecar" in docs.content  # assets from our own static files, no CDN
