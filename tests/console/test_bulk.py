"""Bulk retry and cancel from the list: ticked jobs, one POST, the same rules as one job at a time,
and a message that counts what was done and, by reason, what was skipped. Never a 500."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job
from tests.console.conftest import grant
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db

BULK = reverse("jobs:bulk")
BACK = "/jobs/list/?status=failed"


def failed_job(**fields) -> Job:
    return JobFactory(status=Job.Status.FAILED, attempts=3, finished_at=timezone.now(), **fields)


def post(client, action: str, ids: list, **extra):
    return client.post(BULK, {"action": action, "ids": [str(i) for i in ids], "next": BACK, **extra})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def statuses(*jobs: Job) -> list[str]:
    return [Job.objects.get(pk=job.pk).status for job in jobs]


def test_the_list_offers_checkboxes_and_the_two_buttons_in_one_form(admin_web):
    job = failed_job()
    html = admin_web.get(reverse("jobs:list")).content.decode()
    assert f'<form id="bulk" class="bulk" method="post" action="{BULK}">' in html
    assert f'<input type="checkbox" name="ids" value="{job.pk}" form="bulk"' in html
    assert 'name="action" value="retry"' in html and 'name="action" value="cancel"' in html


def test_bulk_retry_retries_what_it_can_and_counts_the_rest_by_reason(admin_web, django_capture_on_commit_callbacks):
    failed = [failed_job(), failed_job()]
    running = JobFactory(status=Job.Status.RUNNING)
    with django_capture_on_commit_callbacks():
        response = post(admin_web, "retry", [*[job.pk for job in failed], running.pk, 10**12])
    assert response.status_code == 302 and response["Location"] == BACK
    assert messages_of(response) == ["Retried 2 jobs; skipped 1 (already running), 1 (not found)."]
    assert statuses(*failed, running) == ["queued", "queued", "running"]


def test_bulk_cancel_cancels_queued_and_stops_running_jobs(admin_web):
    queued, running, done = (
        JobFactory(status=Job.Status.QUEUED),
        JobFactory(status=Job.Status.RUNNING),
        JobFactory(status=Job.Status.SUCCEEDED, finished_at=timezone.now()),
    )
    response = post(admin_web, "cancel", [queued.pk, running.pk, done.pk])
    assert messages_of(response) == ["Cancelled 2 jobs; skipped 1 (already succeeded)."]
    assert statuses(queued, running, done) == ["cancelled", "running", "succeeded"]
    assert Job.objects.get(pk=running.pk).cancel_requested_at is not None


def test_nothing_done_is_a_warning_not_a_success(admin_web):
    job = JobFactory(status=Job.Status.RUNNING)
    response = post(admin_web, "retry", [job.pk])
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "warning" and str(message) == "Retried 0 jobs; skipped 1 (already running)."


@pytest.mark.parametrize(
    "data, text",
    [
        ({"action": "retry"}, "Select the jobs to retry first."),
        ({"action": "cancel", "ids": ""}, "Select the jobs to cancel first."),
        ({"action": "retry", "ids": ["1", "x"]}, "The selection holds something that is not a job id."),
        ({"action": "retry", "ids": ["-1"]}, "The selection holds something that is not a job id."),
        ({"action": "retry", "ids": ["²"]}, "The selection holds something that is not a job id."),
        ({"action": "retry", "ids": ["9" * 30]}, "The selection holds something that is not a job id."),
        ({"action": "retry", "ids": [str(i) for i in range(1, 102)]}, "Select at most 100 jobs at once."),
        ({"action": "delete", "ids": ["1"]}, "Choose Retry selected or Cancel selected."),
        ({"ids": ["1"]}, "Choose Retry selected or Cancel selected."),
    ],
)
def test_bad_input_is_a_message_and_changes_nothing(admin_web, data, text):
    job = failed_job()
    response = admin_web.post(BULK, {**data, "next": BACK})
    assert response.status_code == 302 and response["Location"] == BACK
    assert messages_of(response) == [text]
    assert statuses(job) == ["failed"]


def test_bulk_answers_get_with_405(admin_web):
    assert admin_web.get(BULK).status_code == 405


def test_anonymous_is_sent_to_log_in(client):
    job = failed_job()
    response = client.post(BULK, {"action": "retry", "ids": [job.pk]})
    assert response.status_code == 302 and response["Location"].startswith(reverse("jobs:login"))
    assert statuses(job) == ["failed"]


def test_bulk_requires_the_csrf_token(staff):
    job = failed_job()
    staff.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(BULK, {"action": "retry", "ids": [job.pk]}).status_code == 403
    assert statuses(job) == ["failed"]


def test_staff_without_the_permission_are_refused_and_see_no_checkboxes(operator_web, operator):
    job = failed_job()
    html = operator_web.get(reverse("jobs:list")).content.decode()
    assert 'id="bulk"' not in html and 'name="ids"' not in html
    response = post(operator_web, "retry", [job.pk])
    assert messages_of(response) == ["You do not have permission to retry jobs."]
    assert statuses(job) == ["failed"]


def test_staff_with_one_permission_get_that_button_only(operator_web, operator, django_capture_on_commit_callbacks):
    grant(operator, "retry_job")
    job, queued = failed_job(), JobFactory(status=Job.Status.QUEUED)
    html = operator_web.get(reverse("jobs:list")).content.decode()
    assert 'data-bulk="retry"' in html and 'data-bulk="cancel"' not in html
    assert messages_of(post(operator_web, "cancel", [queued.pk])) == ["You do not have permission to cancel jobs."]
    with django_capture_on_commit_callbacks():
        post(operator_web, "retry", [job.pk])
    assert statuses(job, queued) == ["queued", "queued"]


def test_a_non_staff_user_acts_on_their_own_jobs_only(user_web, user, django_capture_on_commit_callbacks):
    mine, theirs = failed_job(requested_by=user), failed_job(requested_by=UserFactory())
    with django_capture_on_commit_callbacks():
        response = post(user_web, "retry", [mine.pk, theirs.pk])
    assert messages_of(response) == ["Retried 1 job; skipped 1 (not found)."]
    assert statuses(mine, theirs) == ["queued", "failed"]


def test_next_pointing_off_site_falls_back_to_the_list(admin_web):
    response = admin_web.post(BULK, {"action": "retry", "next": "https://elsewhere.example/"})
    assert response["Location"] == reverse("jobs:list")
