"""The console's pages: login, dashboard, list, detail; who sees what, bad input, query budgets."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job, JobEvent
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_root_redirects_to_the_dashboard(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:dashboard")


@pytest.mark.parametrize("name", ["jobs:dashboard", "jobs:list"])
def test_pages_require_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("jobs:login") + "?next=")


def test_a_non_staff_user_logs_in_through_the_console_login(client, user):
    user.save()  # the factory sets the password without saving it
    page = client.get(reverse("jobs:login"))
    assert page.status_code == 200 and b'name="password"' in page.content

    response = client.post(reverse("jobs:login"), {"username": user.username, "password": "pass-word-123"})
    assert response.status_code == 302 and response["Location"] == "/jobs/"
    assert client.get(reverse("jobs:list")).status_code == 200


def test_login_with_a_wrong_password_shows_an_error(client, user):
    user.save()
    response = client.post(reverse("jobs:login"), {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert b"did not match" in response.content


@pytest.mark.parametrize("status", Job.Status.values)
def test_the_badge_draws_every_status(status):
    html = render_to_string("jobs/_status_badge.html", {"status": status})
    assert f'class="badge badge-{status}"' in html
    assert status in html


def test_dashboard_shows_counts_chart_queues_and_failures(admin_web, django_assert_max_num_queries):
    now = timezone.now()
    JobFactory.create_batch(2, status=Job.Status.QUEUED)
    JobFactory(status=Job.Status.RUNNING, started_at=now)
    JobFactory.create_batch(3, status=Job.Status.SUCCEEDED, finished_at=now)
    JobFactory(status=Job.Status.FAILED, finished_at=now, error={"type": "RuntimeError", "message": "disk full\nmore"})
    JobFactory(status=Job.Status.SUCCEEDED, finished_at=now - timedelta(days=3))  # older than the counts' day

    with django_assert_max_num_queries(10):  # session, user, 3 stats, chart, running, waiting, failures, clusters
        response = admin_web.get(reverse("jobs:dashboard"))

    assert response.status_code == 200
    assert dict(response.context["counts"]) == {
        "waiting": 0, "queued": 2, "reserved": 0, "running": 1, "succeeded": 3, "failed": 1, "cancelled": 0,
        "expired": 0,
    }  # fmt: skip
    html = response.content.decode()
    assert 'data-total="succeeded">3<' in html and 'data-total="failed">1<' in html
    assert "RuntimeError: disk full" in html and "more" not in html.split("RuntimeError: disk full")[1][:10]
    assert '<tr data-queue="default"><td><a href="/jobs/list/?queue=default">default</a></td><td>2</td>' in html
    assert "data-no-workers" in html  # no qcluster in this test
    assert reverse("admin:jobs_queue_changelist") in html


def test_a_non_staff_user_is_sent_from_the_dashboard_to_their_jobs(user_web):
    response = user_web.get(reverse("jobs:dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("jobs:list")
    assert reverse("admin:index") not in user_web.get(reverse("jobs:list")).content.decode()


def test_dashboard_query_count_does_not_grow_with_jobs(admin_web, staff, django_assert_max_num_queries):
    now = timezone.now()
    for i in range(40):
        error = {"type": "E", "message": "x"}
        JobFactory(status=Job.Status.FAILED, finished_at=now - timedelta(minutes=i), error=error, requested_by=staff)
        JobFactory(status=Job.Status.QUEUED, queue=f"q{i % 4}", requested_by=staff)
        later = now + timedelta(minutes=i + 1)
        JobFactory(status=Job.Status.QUEUED, run_after=later, attempts=i % 2, requested_by=staff)
    with django_assert_max_num_queries(10):
        assert admin_web.get(reverse("jobs:dashboard")).status_code == 200


def test_list_shows_newest_first_with_progress_and_buttons(admin_web):
    failed = JobFactory(status=Job.Status.FAILED, error={"type": "E", "message": "boom"})
    running = JobFactory(status=Job.Status.RUNNING, progress={"done": 3, "total": 4})
    response = admin_web.get(reverse("jobs:list"))
    assert response.status_code == 200
    assert [job.pk for job in response.context["jobs"]] == [running.pk, failed.pk]
    html = response.content.decode()
    assert 'value="75"' in html  # the running job's progress bar
    assert reverse("jobs:retry", args=[failed.pk]) in html
    assert reverse("jobs:cancel", args=[running.pk]) in html
    assert reverse("jobs:retry", args=[running.pk]) not in html


def test_list_filters_by_status_handler_queue_and_search(admin_web):
    a = JobFactory(handler="jobs.sleep", status=Job.Status.RUNNING, queue="default")
    b = JobFactory(handler="jobs.noop", status=Job.Status.SUCCEEDED)
    c = JobFactory(handler="jobs.fail", status=Job.Status.FAILED, trace_id="ab" * 16)

    def ids(query: str) -> list[int]:
        response = admin_web.get(reverse("jobs:list") + query)
        assert response.status_code == 200, response.content
        return [job.pk for job in response.context["jobs"]]

    assert ids("?status=running&status=failed") == [c.pk, a.pk]
    assert ids("?handler=jobs.noop") == [b.pk]
    assert ids("?queue=default") == [c.pk, b.pk, a.pk]
    assert ids(f"?q=%23{b.pk}") == [b.pk]
    assert ids(f"?q={'AB' * 16}") == [c.pk]
    assert ids("?q=jobs.sleep") == [a.pk]
    assert ids("?q=nothing-like-this") == []


@pytest.mark.parametrize(
    "query, field", [("?status=exploded", "status"), ("?handler=no.such", "handler"), ("?queue=nope", "queue")]
)
def test_list_answers_400_with_the_field_for_bad_filters(admin_web, query, field):
    response = admin_web.get(reverse("jobs:list") + query)
    assert response.status_code == 400
    assert f"<li>{field}: " in response.content.decode()


@pytest.mark.parametrize(
    "cursor", ["garbage", "-1-2", "12", "1-0", "99999999999999999999999-1", "1-99999999999999999999"]
)
def test_list_answers_400_for_a_cursor_it_did_not_make(admin_web, cursor):
    response = admin_web.get(reverse("jobs:list"), {"before": cursor})
    assert response.status_code == 400
    assert "Invalid cursor." in response.content.decode()


def test_keyset_pagination_walks_every_job_once_even_with_equal_timestamps(admin_web, staff):
    same = timezone.now()
    jobs = JobFactory.create_batch(60, created_at=same, requested_by=staff) + JobFactory.create_batch(
        50, created_at=same - timedelta(seconds=1), requested_by=staff
    )
    seen, url, pages = [], reverse("jobs:list") + "?status=queued", 0
    while url:
        response = admin_web.get(url if url.startswith("/") else reverse("jobs:list") + url)
        seen += [job.pk for job in response.context["jobs"]]
        url, pages = response.context["next_url"], pages + 1
    assert pages == 3
    assert seen == sorted((job.pk for job in jobs), key=lambda pk: (pk > jobs[59].pk, -pk))
    assert len(set(seen)) == 110


def test_list_query_count_is_flat_for_a_full_page(admin_web, django_assert_max_num_queries):
    for owner in UserFactory.create_batch(3):  # rows of several users: requested_by must not cost a query each
        JobFactory.create_batch(20, status=Job.Status.RUNNING, progress={"done": 1, "total": 2}, requested_by=owner)
    with django_assert_max_num_queries(4):  # session, user, one page of jobs with their owners
        response = admin_web.get(reverse("jobs:list"))
    assert len(response.context["jobs"]) == 50
    assert response.context["next_url"]


def test_a_non_staff_user_lists_only_their_own_jobs(user_web, user):
    mine = JobFactory(requested_by=user)
    JobFactory(requested_by=UserFactory())
    response = user_web.get(reverse("jobs:list"))
    assert [job.pk for job in response.context["jobs"]] == [mine.pk]


def test_detail_shows_facts_timeline_log_error_and_related_jobs(admin_web, staff, django_assert_max_num_queries):
    job = JobFactory(
        status=Job.Status.FAILED, attempts=2, max_attempts=2, args={"feed": 7}, finished_at=timezone.now(),
        error={"type": "RuntimeError", "message": "no route", "traceback": "Traceback (most recent call last):\n  x"},
    )  # fmt: skip
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.LOG, attempt=1, message="read 500 rows")
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.FAILED, attempt=2, message="no route")
    sibling = JobFactory(trace_id=job.trace_id, handler="jobs.noop")

    with django_assert_max_num_queries(7):  # session, user, job, events, related jobs, its dependencies
        response = admin_web.get(reverse("jobs:detail", args=[job.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "RuntimeError: no route" in html and "Traceback (most recent call last)" in html
    assert "read 500 rows" in html and "2 of 2" in html and job.trace_id in html
    assert "&quot;feed&quot;: 7" in html
    assert reverse("jobs:detail", args=[sibling.pk]) in html
    assert reverse("jobs:retry", args=[job.pk]) in html


def test_detail_shows_the_result_of_a_succeeded_job(admin_web):
    job = JobFactory(status=Job.Status.SUCCEEDED, result={"rows": 12}, finished_at=timezone.now())
    html = admin_web.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "data-result" in html and "&quot;rows&quot;: 12" in html
    assert reverse("jobs:retry", args=[job.pk]) not in html and reverse("jobs:cancel", args=[job.pk]) not in html


def test_another_users_job_is_404_for_a_non_staff_user(user_web):
    job = JobFactory(requested_by=UserFactory())
    assert user_web.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
    assert user_web.get(reverse("jobs:detail-live", args=[job.pk])).status_code == 404


def test_an_unknown_job_is_404(admin_web):
    assert admin_web.get(reverse("jobs:detail", args=[10**12])).status_code == 404
