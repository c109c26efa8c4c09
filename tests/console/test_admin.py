"""The jobs admin: read-only facts, index-friendly filters and search, bulk retry/cancel through the
services with a done/skipped report, and the retry_job/cancel_job permissions."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from jobs.admin import JobAdmin
from jobs.models import Job, JobEvent
from tests.console.conftest import grant
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:jobs_job_changelist")


def shown(response) -> list[int]:
    return [job.pk for job in response.context["cl"].result_list]


def act(client, action: str, jobs: list[Job]):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [job.pk for job in jobs]}, follow=True)


def test_changelist_shows_badges_progress_and_attempts(admin_web, staff, django_assert_max_num_queries):
    JobFactory.create_batch(30, status=Job.Status.RUNNING, progress={"done": 1, "total": 4}, requested_by=staff)
    with django_assert_max_num_queries(8):
        response = admin_web.get(CHANGELIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="badge badge-running"' in html
    assert '<progress max="100" value="25">' in html
    assert "0/3" in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status__exact=failed", ["failed"]),
        ("handler=jobs.sleep", ["sleep"]),
        ("queue=other", ["other"]),
    ],
)
def test_changelist_filters(admin_web, settings, query, expected):
    settings.JOBS_QUEUES = ["default", "other"]
    jobs = {
        "failed": JobFactory(status=Job.Status.FAILED),
        "sleep": JobFactory(handler="jobs.sleep"),
        "other": JobFactory(queue="other"),
    }
    response = admin_web.get(f"{CHANGELIST}?{query}")
    assert shown(response) == [jobs[name].pk for name in expected]


def test_changelist_filters_by_date(admin_web):
    old = JobFactory(created_at=timezone.now() - timedelta(days=30))
    new = JobFactory()
    response = admin_web.get(CHANGELIST, {"created_at__gte": (timezone.now() - timedelta(days=1)).date().isoformat()})
    assert shown(response) == [new.pk]
    assert old.pk not in shown(response)


def test_search_matches_id_trace_id_and_handler_exactly(admin_web):
    a = JobFactory(trace_id="f" * 32)
    b = JobFactory(handler="jobs.sleep")
    assert shown(admin_web.get(CHANGELIST, {"q": str(a.pk)})) == [a.pk]
    assert shown(admin_web.get(CHANGELIST, {"q": "F" * 32})) == [a.pk]
    assert shown(admin_web.get(CHANGELIST, {"q": "jobs.sleep"})) == [b.pk]
    assert shown(admin_web.get(CHANGELIST, {"q": "sleep"})) == []


def test_changelist_orders_by_duration(admin_web):
    now = timezone.now()
    slow = JobFactory(status=Job.Status.SUCCEEDED, started_at=now - timedelta(seconds=90), finished_at=now)
    fast = JobFactory(status=Job.Status.SUCCEEDED, started_at=now - timedelta(seconds=2), finished_at=now)
    column = JobAdmin.list_display.index("duration_display") + 1
    assert shown(admin_web.get(CHANGELIST, {"o": f"-{column}"})) == [slow.pk, fast.pk]
    assert shown(admin_web.get(CHANGELIST, {"o": str(column)})) == [fast.pk, slow.pk]


def test_change_page_is_read_only_with_pretty_data_and_event_history(admin_web):
    job = JobFactory(
        status=Job.Status.FAILED, args={"feed": 1}, error={"type": "E", "message": "m", "traceback": "Traceback here"}
    )
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.FAILED, attempt=1, message="event message")
    response = admin_web.get(reverse("admin:jobs_job_change", args=[job.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&quot;feed&quot;: 1" in html and "Traceback here" in html and "event message" in html
    assert 'name="_save"' not in html  # nothing to save: the facts are history
    assert reverse("jobs:detail", args=[job.pk]) in html


def test_no_adding_or_deleting_jobs_in_the_admin(admin_web):
    job = JobFactory()
    assert admin_web.get(reverse("admin:jobs_job_add")).status_code == 403
    assert admin_web.post(reverse("admin:jobs_job_delete", args=[job.pk]), {"post": "yes"}).status_code == 403
    assert Job.objects.filter(pk=job.pk).exists()


def test_bulk_retry_reports_done_and_skipped_with_reasons(admin_web, staff):
    failed = JobFactory.create_batch(2, status=Job.Status.FAILED, requested_by=staff)
    running = JobFactory(status=Job.Status.RUNNING, requested_by=staff)
    response = act(admin_web, "retry_selected", [*failed, running])
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Retried 2 jobs; skipped 1 (already running)."]
    assert sorted(Job.objects.values_list("status", flat=True)) == ["queued", "queued", "running"]


def test_bulk_cancel_reports_done_and_skipped_with_reasons(admin_web, staff):
    queued = JobFactory(status=Job.Status.QUEUED, requested_by=staff)
    done = JobFactory.create_batch(2, status=Job.Status.SUCCEEDED, requested_by=staff)
    response = act(admin_web, "cancel_selected", [queued, *done])
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Cancelled 1 job; skipped 2 (already succeeded)."]
    queued.refresh_from_db()
    assert queued.status == Job.Status.CANCELLED


def test_bulk_actions_need_their_permission(operator_web, operator):
    job = JobFactory(status=Job.Status.FAILED)
    html = operator_web.get(CHANGELIST).content.decode()
    assert "retry_selected" not in html and "cancel_selected" not in html
    act(operator_web, "retry_selected", [job])
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED

    grant(operator, "retry_job")
    html = operator_web.get(CHANGELIST).content.decode()
    assert "retry_selected" in html and "cancel_selected" not in html
    act(operator_web, "retry_selected", [job])
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


def test_django_q_admin_pages_are_gone_since_its_tables_are_not_the_queue(admin_web):
    for name in ["django_q_schedule", "django_q_failure", "django_q_success"]:
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:{name}_changelist")


def change_page(client, job: Job) -> str:
    return client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()


def test_change_page_shows_event_times_to_the_millisecond(admin_web):
    job = JobFactory(status=Job.Status.SUCCEEDED)
    at = timezone.now().replace(microsecond=123456)
    JobEvent.objects.create(job=job, at=at, kind=JobEvent.Kind.STARTED, attempt=1)
    JobEvent.objects.create(job=job, at=at.replace(microsecond=987000), kind=JobEvent.Kind.SUCCEEDED, attempt=1)
    html = change_page(admin_web, job)
    assert f"{at:%Y-%m-%d %H:%M:%S}.123" in html and f"{at:%Y-%m-%d %H:%M:%S}.987" in html
    assert html.index(".123") < html.index(".987")


def test_change_page_offers_retry_for_a_failed_job_and_cancel_for_a_queued_one(admin_web):
    failed, queued = JobFactory(status=Job.Status.FAILED), JobFactory(status=Job.Status.QUEUED)
    html = change_page(admin_web, failed)
    assert reverse("admin:jobs_job_retry", args=[failed.pk]) in html
    assert reverse("admin:jobs_job_cancel", args=[failed.pk]) not in html
    html = change_page(admin_web, queued)
    assert reverse("admin:jobs_job_cancel", args=[queued.pk]) in html
    assert reverse("admin:jobs_job_retry", args=[queued.pk]) not in html


def test_the_retry_button_retries_through_the_service_and_says_so(admin_web, django_capture_on_commit_callbacks):
    job = JobFactory(status=Job.Status.FAILED, attempts=3)
    with django_capture_on_commit_callbacks():
        response = admin_web.post(reverse("admin:jobs_job_retry", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("admin:jobs_job_change", args=[job.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Job #{job.pk} was queued again."]
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.attempts == 0
    assert JobEvent.objects.get(job=job, kind=JobEvent.Kind.RETRIED).actor == admin_web.user


def test_the_cancel_button_cancels_or_asks_a_running_job_to_stop(admin_web):
    queued, running = JobFactory(status=Job.Status.QUEUED), JobFactory(status=Job.Status.RUNNING)
    response = admin_web.post(reverse("admin:jobs_job_cancel", args=[queued.pk]))
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Job #{queued.pk} was cancelled."]
    response = admin_web.post(reverse("admin:jobs_job_cancel", args=[running.pk]))
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == f"Cancellation of job #{running.pk} requested."
    assert Job.objects.get(pk=queued.pk).status == Job.Status.CANCELLED
    assert Job.objects.get(pk=running.pk).cancel_requested_at is not None


def test_a_button_on_a_job_in_the_wrong_state_is_an_error_message(admin_web):
    job = JobFactory(status=Job.Status.SUCCEEDED)
    response = admin_web.post(reverse("admin:jobs_job_retry", args=[job.pk]))
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "error" and "only failed, cancelled or expired jobs can be retried" in str(message)
    response = admin_web.post(reverse("admin:jobs_job_cancel", args=[job.pk]))
    assert "cannot be cancelled" in str(list(get_messages(response.wsgi_request))[-1])
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED


def test_the_buttons_need_their_permission(operator_web, operator):
    job = JobFactory(status=Job.Status.FAILED)
    assert reverse("admin:jobs_job_retry", args=[job.pk]) not in change_page(operator_web, job)
    response = operator_web.post(reverse("admin:jobs_job_retry", args=[job.pk]))
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["You do not have permission to retry jobs."]
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED

    grant(operator, "retry_job")
    assert reverse("admin:jobs_job_retry", args=[job.pk]) in change_page(operator_web, job)


@pytest.mark.parametrize("name", ["admin:jobs_job_retry", "admin:jobs_job_cancel"])
def test_the_button_urls_refuse_get_unknown_jobs_and_non_staff(admin_web, user_web, client, name):
    job = JobFactory(status=Job.Status.FAILED)
    assert admin_web.get(reverse(name, args=[job.pk])).status_code == 405
    assert admin_web.post(reverse(name, args=[10**12])).status_code == 404
    assert admin_web.post(reverse(name, args=["not-an-id"])).status_code == 404
    assert user_web.post(reverse(name, args=[job.pk])).status_code == 302  # to the admin's login
    assert client.post(reverse(name, args=[job.pk])).status_code == 302
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED


def test_the_changelist_badge_says_what_a_queued_job_waits_for(admin_web):
    JobFactory(status=Job.Status.QUEUED, attempts=1, run_after=timezone.now() + timedelta(minutes=5))
    assert "retry 2/3 in 5 min" in admin_web.get(CHANGELIST).content.decode()
