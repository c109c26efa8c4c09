"""Retry and cancel from the pages: POST with CSRF, permissions and ownership, a message, a redirect."""

import json

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job, JobEvent
from tests.console.conftest import grant
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db


def failed_job(**fields) -> Job:
    return JobFactory(status=Job.Status.FAILED, attempts=3, finished_at=timezone.now(), **fields)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def status_of(job: Job) -> str:
    job.refresh_from_db()
    return job.status


def test_retry_queues_a_failed_job_again_and_redirects_back(admin_web, django_capture_on_commit_callbacks):
    job = failed_job()
    with django_capture_on_commit_callbacks():
        response = admin_web.post(reverse("jobs:retry", args=[job.pk]), {"next": "/jobs/list/?status=failed"})
    assert response.status_code == 302 and response["Location"] == "/jobs/list/?status=failed"
    assert status_of(job) == Job.Status.QUEUED and job.attempts == 0
    assert messages_of(response) == [f"Job #{job.pk} was queued again."]
    assert JobEvent.objects.get(job=job, kind=JobEvent.Kind.RETRIED).actor == admin_web.user


def test_retry_of_a_running_job_answers_with_an_error_message(admin_web):
    job = JobFactory(status=Job.Status.RUNNING)
    response = admin_web.post(reverse("jobs:retry", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert status_of(job) == Job.Status.RUNNING
    assert "only failed, cancelled or expired jobs can be retried" in messages_of(response)[0]


def test_cancel_of_a_queued_job_cancels_it(admin_web):
    job = JobFactory(status=Job.Status.QUEUED)
    response = admin_web.post(reverse("jobs:cancel", args=[job.pk]))
    assert status_of(job) == Job.Status.CANCELLED
    assert messages_of(response) == [f"Job #{job.pk} was cancelled."]


def test_cancel_of_a_running_job_asks_it_to_stop(admin_web):
    job = JobFactory(status=Job.Status.RUNNING)
    response = admin_web.post(reverse("jobs:cancel", args=[job.pk]))
    assert status_of(job) == Job.Status.RUNNING and job.cancel_requested_at is not None
    assert "requested" in messages_of(response)[0]
    assert "cancelling…" in admin_web.get(reverse("jobs:detail", args=[job.pk])).content.decode()


def test_cancel_of_a_finished_job_answers_with_an_error_message(admin_web):
    job = JobFactory(status=Job.Status.SUCCEEDED, finished_at=timezone.now())
    response = admin_web.post(reverse("jobs:cancel", args=[job.pk]))
    assert status_of(job) == Job.Status.SUCCEEDED
    assert "cannot be cancelled" in messages_of(response)[0]


@pytest.mark.parametrize("name", ["jobs:retry", "jobs:cancel"])
def test_actions_refuse_get(admin_web, name):
    job = failed_job()
    assert admin_web.get(reverse(name, args=[job.pk])).status_code == 405
    assert status_of(job) == Job.Status.FAILED


def test_actions_require_a_csrf_token(staff):
    job = JobFactory(status=Job.Status.QUEUED)
    staff.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(reverse("jobs:cancel", args=[job.pk])).status_code == 403
    assert status_of(job) == Job.Status.QUEUED


def test_actions_require_login(client):
    job = JobFactory(status=Job.Status.QUEUED)
    response = client.post(reverse("jobs:cancel", args=[job.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("jobs:login"))
    assert status_of(job) == Job.Status.QUEUED


def test_staff_without_the_permission_cannot_act_and_sees_no_buttons(operator_web):
    job = failed_job()
    assert reverse("jobs:retry", args=[job.pk]) not in operator_web.get(reverse("jobs:list")).content.decode()
    response = operator_web.post(reverse("jobs:retry", args=[job.pk]))
    assert status_of(job) == Job.Status.FAILED
    assert messages_of(response) == ["You do not have permission to retry jobs."]


def test_staff_with_the_permission_can_act(operator_web, operator):
    grant(operator, "retry_job")
    job = failed_job()
    assert reverse("jobs:retry", args=[job.pk]) in operator_web.get(reverse("jobs:list")).content.decode()
    operator_web.post(reverse("jobs:retry", args=[job.pk]))
    assert status_of(job) == Job.Status.QUEUED


def test_a_non_staff_user_acts_on_their_own_job(user_web, user):
    job = JobFactory(status=Job.Status.QUEUED, requested_by=user)
    user_web.post(reverse("jobs:cancel", args=[job.pk]))
    assert status_of(job) == Job.Status.CANCELLED


def test_another_users_job_is_404_and_untouched(user_web):
    job = JobFactory(status=Job.Status.QUEUED, requested_by=UserFactory())
    assert user_web.post(reverse("jobs:cancel", args=[job.pk])).status_code == 404
    assert status_of(job) == Job.Status.QUEUED


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example/x", "javascript:alert(1)"])
def test_next_pointing_off_site_is_ignored(admin_web, target):
    job = JobFactory(status=Job.Status.QUEUED)
    response = admin_web.post(reverse("jobs:cancel", args=[job.pk]), {"next": target})
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])


def test_list_live_returns_fresh_parts_of_visible_jobs_only(user_web, user, django_assert_max_num_queries):
    mine = JobFactory(status=Job.Status.RUNNING, requested_by=user, progress={"done": 5, "total": 10})
    theirs = JobFactory(status=Job.Status.RUNNING)
    with django_assert_max_num_queries(5):  # two of them load the user's permissions, once a request
        response = user_web.get(reverse("jobs:list-live"), {"ids": f"{mine.pk},{theirs.pk}", "next": "/jobs/list/"})
    data = json.loads(response.content)
    assert [entry["id"] for entry in data["jobs"]] == [mine.pk]
    entry = data["jobs"][0]
    assert entry["status"] == "running" and entry["active"] is True
    assert 'value="50"' in entry["parts"]["progress"]
    assert "badge-running" in entry["parts"]["badge"]
    assert reverse("jobs:cancel", args=[mine.pk]) in entry["parts"]["actions"]
    assert 'value="/jobs/list/"' in entry["parts"]["actions"]  # the buttons send the user back to the list
    assert entry["parts"]["attempts"] == "0/3"


@pytest.mark.parametrize("ids", ["1,x", ",".join(str(i) for i in range(1, 102))])
def test_list_live_answers_400_for_bad_ids(admin_web, ids):
    response = admin_web.get(reverse("jobs:list-live"), {"ids": ids})
    assert response.status_code == 400
    assert "ids" in json.loads(response.content)


def test_detail_live_renders_outcome_and_timeline_once_finished(admin_web):
    job = failed_job(error={"type": "RuntimeError", "message": "nope", "traceback": "TB"})
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.FAILED, attempt=3, message="nope")
    entry = json.loads(admin_web.get(reverse("jobs:detail-live", args=[job.pk])).content)["jobs"][0]
    assert entry["active"] is False
    assert "RuntimeError: nope" in entry["parts"]["outcome"]
    assert "Failed" in entry["parts"]["timeline"]
    assert reverse("jobs:retry", args=[job.pk]) in entry["parts"]["actions"]
