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
