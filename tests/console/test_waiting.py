"""What a page says of a job besides its status: a queued job that waits for its time ("scheduled in
9 min", "retry 2/3 in 4.7 s"), when a job finished or failed, and the dashboard's waiting jobs and
Retry buttons."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job, JobEvent
from jobs.templatetags.console import badge_context, countdown
from tests.console.conftest import grant
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

ERROR = {"type": "E", "message": "x"}


def in_future(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "seconds, text",
    [(0.2, "0.2 s"), (4.74, "4.7 s"), (59.9, "59.9 s"), (60, "1 min"), (9 * 60 + 10, "9 min"),
     (2 * 3600 + 5 * 60, "2 h 05 min"), (3 * 86400 + 4 * 3600, "3 d 4 h"), (-3, "0.0 s")],
)  # fmt: skip
def test_countdown_reads_as_a_person_says_it(seconds, text):
    assert countdown(seconds) == text


def test_a_delayed_job_is_scheduled_and_one_in_backoff_says_which_retry():
    now = timezone.now()
    delayed = JobFactory.build(status=Job.Status.QUEUED, run_after=now + timedelta(minutes=9, seconds=5))
    backoff = JobFactory.build(status=Job.Status.QUEUED, attempts=1, run_after=now + timedelta(seconds=4.7))
    due = JobFactory.build(status=Job.Status.QUEUED, attempts=1, run_after=now - timedelta(seconds=1))
    running = JobFactory.build(status=Job.Status.RUNNING, run_after=now + timedelta(minutes=5))

    assert badge_context(delayed, now=now)["badge_label"] == "scheduled in 9 min"
    assert badge_context(backoff, now=now)["badge_label"] == "retry 2/3 in 4.7 s"
    assert badge_context(due, now=now)["badge_label"] == ""  # due: plain "queued"
    assert badge_context(running, now=now)["badge_label"] == ""


def test_the_list_the_job_page_and_the_dashboard_say_what_a_queued_job_waits_for(admin_web):
    delayed = JobFactory(status=Job.Status.QUEUED, run_after=in_future(9 * 60 + 20))
    backoff = JobFactory(status=Job.Status.QUEUED, attempts=2, max_attempts=3, run_after=in_future(40))
    due = JobFactory(status=Job.Status.QUEUED)

    html = admin_web.get(reverse("jobs:list")).content.decode()
    assert "◷ scheduled in 9 min" in html and 'class="badge badge-queued badge-scheduled"' in html
    assert "↻ retry 3/3 in " in html and 'class="badge badge-queued badge-retry"' in html
    assert html.count('class="badge badge-queued"') >= 2  # the due job's badge, and the status filter's

    page = admin_web.get(reverse("jobs:detail", args=[delayed.pk])).content.decode()
    assert "scheduled in 9 min" in page and "queued; runs after" in page

    dashboard = admin_web.get(reverse("jobs:dashboard"))
    assert [job.pk for job in dashboard.context["waiting"]] == [backoff.pk, delayed.pk]  # soonest first
    html = dashboard.content.decode()
    assert f'data-waiting="{due.pk}"' not in html
    assert "retry 3/3 in" in html and "scheduled in 9 min" in html


def test_the_live_badge_counts_down_with_the_page(admin_web):
    job = JobFactory(status=Job.Status.QUEUED, attempts=1, run_after=in_future(5))
    entry = json.loads(admin_web.get(reverse("jobs:list-live"), {"ids": str(job.pk)}).content)["jobs"][0]
    assert re.search(r"retry 2/3 in [45]\.\d s", entry["parts"]["badge"]) and entry["active"] is True


def test_the_list_shows_when_a_job_failed_or_finished(admin_web):
    failed = JobFactory(status=Job.Status.FAILED, finished_at=timezone.now() - timedelta(minutes=3))
    queued = JobFactory(status=Job.Status.QUEUED)
    response = admin_web.get(reverse("jobs:list"))
    html = response.content.decode()
    row = html.split(f'id="job-{failed.pk}"')[1].split("</tr>")[0]
    assert 'data-live-part="finished"><time' in row and "failed 3\xa0minutes ago" in row
    queued_row = html.split(f'id="job-{queued.pk}"')[1].split("</tr>")[0]
    assert 'data-live-part="finished"><span class="muted">—</span>' in queued_row


def test_the_job_page_names_the_finish_by_its_outcome_and_the_last_failed_attempt(admin_web):
    failed = JobFactory(status=Job.Status.FAILED, finished_at=timezone.now(), attempts=3)
    html = admin_web.get(reverse("jobs:detail", args=[failed.pk])).content.decode()
    assert "<dt>Failed</dt><dd data-finished>" in html

    retrying = JobFactory(status=Job.Status.QUEUED, attempts=1, run_after=in_future(30), error=ERROR)
    JobEvent.objects.create(job=retrying, kind=JobEvent.Kind.RETRY_SCHEDULED, attempt=1, message="x (retry in 30.0 s)")
    html = admin_web.get(reverse("jobs:detail", args=[retrying.pk])).content.decode()
    assert "<dt>Last failure</dt><dd data-last-failure>" in html and "attempt 1)" in html
    assert "<dt>Finished</dt><dd data-finished>—</dd>" in html


def failed_job() -> Job:
    return JobFactory(status=Job.Status.FAILED, attempts=3, finished_at=timezone.now(), error=ERROR)


def test_the_dashboards_failures_have_a_retry_button_that_comes_back_to_the_dashboard(
    admin_web, django_capture_on_commit_callbacks
):
    job = failed_job()
    html = admin_web.get(reverse("jobs:dashboard")).content.decode()
    row = html.split(f'data-failure="{job.pk}"')[1].split("</tr>")[0]
    assert reverse("jobs:retry", args=[job.pk]) in row and 'name="next" value="/jobs/"' in row

    with django_capture_on_commit_callbacks():
        response = admin_web.post(reverse("jobs:retry", args=[job.pk]), {"next": reverse("jobs:dashboard")})
    assert response.status_code == 302 and response["Location"] == reverse("jobs:dashboard")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Job #{job.pk} was queued again."]
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


def test_staff_without_the_retry_permission_see_no_retry_on_the_dashboard(operator_web, operator):
    job = failed_job()
    assert reverse("jobs:retry", args=[job.pk]) not in operator_web.get(reverse("jobs:dashboard")).content.decode()
    grant(operator, "retry_job")
    assert reverse("jobs:retry", args=[job.pk]) in operator_web.get(reverse("jobs:dashboard")).content.decode()


def test_a_job_between_attempts_shows_no_growing_duration(admin_web):
    started = timezone.now() - timedelta(minutes=5)
    job = JobFactory(status=Job.Status.QUEUED, attempts=1, started_at=started, run_after=in_future(30))
    row = admin_web.get(reverse("jobs:list")).content.decode().split(f'id="job-{job.pk}"')[1].split("</tr>")[0]
    assert 'data-live-part="duration">—</td>' in row
    entry = json.loads(admin_web.get(reverse("jobs:list-live"), {"ids": str(job.pk)}).content)["jobs"][0]
    assert entry["parts"]["duration"] == "—"
