"""The console in a real browser, against a live server and a real qcluster: log in, upload a feed
and watch it finish without a reload, cancel a running job, retry a failed one, and keep other
users' jobs out of sight. Every wait is Playwright's, with a deadline; no fixed sleeps."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jobs import services
from jobs.models import Job
from tests.browser.conftest import log_in, make_user, screenshot
from tests.factories import JobFactory
from updater.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKER_TIMEOUT = 60_000  # ms: a cold qcluster on a busy 2-core machine


def badge(page):
    return page.locator("[data-live-job] [data-live-part=badge] .badge").first


def mark_document(page) -> None:
    """Leave a mark on the page's window: it survives live updates, not a reload."""
    page.evaluate("window.__sameDocument = true")


def same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def finished_history(owner) -> int:
    """Jobs that finished over the last hour (rows as the runner leaves them), for a chart worth a
    screenshot. Returns how many succeeded."""
    now = timezone.now()
    for minute in range(0, 60, 2):
        for n in range(1 + (minute * 7) % 5):
            failed = (minute + n) % 9 == 0
            finished_at = now - timedelta(minutes=minute)
            JobFactory(
                handler="jobs.sleep", requested_by=owner, attempts=1, created_at=finished_at - timedelta(seconds=9),
                started_at=finished_at - timedelta(seconds=8), finished_at=finished_at,
                status=Job.Status.FAILED if failed else Job.Status.SUCCEEDED,
                error={"type": "TimeoutError", "message": "upstream took too long"} if failed else None,
            )  # fmt: skip
    return Job.objects.filter(status=Job.Status.SUCCEEDED).count()


def test_staff_logs_in_and_the_dashboard_shows_workers_and_outcomes(page, worker):
    staff = make_user("operator", staff=True)
    succeeded_before = finished_history(staff)
    failed_before = Job.objects.filter(status=Job.Status.FAILED).count()
    for _ in range(3):
        services.job_enqueue(handler="jobs.noop", requested_by=staff)
    services.job_enqueue(handler="jobs.fail", args={"message": "disk on fire", "permanent": True}, requested_by=staff)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/jobs/login/"))
    log_in(page, staff)
    expect(page).to_have_url(re.compile(r"/jobs/$"))

    # The dashboard refreshes itself: the worker's stats and the jobs' outcomes arrive without a reload.
    expect(page.locator("table.clusters tbody tr")).to_have_count(1, timeout=WORKER_TIMEOUT)
    succeeded = str(succeeded_before + 3)
    expect(page.locator('[data-count="succeeded"] .count-n')).to_have_text(succeeded, timeout=WORKER_TIMEOUT)
    expect(page.locator('[data-count="failed"] .count-n')).to_have_text(str(failed_before + 1), timeout=WORKER_TIMEOUT)
    expect(page.locator("table.failures tbody tr").first).to_contain_text("PermanentJobError: disk on fire")
    expect(page.locator('[data-total="succeeded"]')).to_have_text(succeeded)
    screenshot(page, "dashboard")


def test_upload_a_feed_and_watch_its_progress_reach_100_without_reload(page, worker, tmp_path):
    staff = make_user("uploader", staff=True)
    feed = tmp_path / "catalogue.csv"
    lines = [f"SKU-{n:06d},Lamp {n},{n % 90 + 1}.50,EUR,{n % 7},true" for n in range(1, 601)]
    feed.write_text("sku,name,price,currency,stock,active\n" + "\n".join(lines) + "\n")

    log_in(page, staff)
    page.click("nav >> text=Upload feed")
    page.set_input_files("input[name=file]", str(feed))
    page.fill("input[name=chunk_size]", "50")
    page.fill("input[name=pause_seconds]", "0.25")  # 12 chunks: a few seconds to watch
    page.click("main button[type=submit]")

    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("Feed received: import job #")
    mark_document(page)
    progress = page.locator("[data-live-part=progress] progress")
    expect(progress).to_have_attribute("value", re.compile(r"^([1-9]|[1-9][0-9])$"), timeout=WORKER_TIMEOUT)
    expect(progress).to_have_attribute("value", "100", timeout=WORKER_TIMEOUT)
    expect(badge(page)).to_have_text(re.compile("succeeded"), timeout=WORKER_TIMEOUT)
    expect(page.locator("[data-live-part=outcome] [data-feed-summary] [data-tally=created]")).to_have_text("600")
    assert same_document(page), "the page reloaded: progress must arrive by live updates"
    assert Product.objects.count() == 600
    screenshot(page, "job")


def test_the_list_updates_progress_and_status_of_running_jobs_without_reload(page, worker):
    staff = make_user("watcher", staff=True)
    job = services.job_enqueue(handler="jobs.sleep", args={"seconds": 3, "steps": 6}, requested_by=staff)
    services.job_enqueue(handler="jobs.sleep", args={"seconds": 0.5, "steps": 2}, requested_by=staff)
    services.job_enqueue(handler="jobs.fail", args={"message": "no such feed", "permanent": True}, requested_by=staff)
    services.job_enqueue(handler="jobs.noop", requested_by=staff, delay=600)  # stays queued: a Cancel button

    log_in(page, staff)
    page.goto("/jobs/list/")
    mark_document(page)
    row = page.locator(f"#job-{job.pk}")
    expect(row.locator(".badge")).to_have_text(re.compile("running"), timeout=WORKER_TIMEOUT)
    expect(row.locator("progress")).to_have_attribute("value", "100", timeout=WORKER_TIMEOUT)
    expect(row.locator(".badge")).to_have_text(re.compile("succeeded"), timeout=WORKER_TIMEOUT)
    slept_3_seconds = re.compile(r"^([3-9]|[1-5][0-9])\.[0-9]s$")
    expect(row.locator("[data-live-part=duration]")).to_have_text(slept_3_seconds)
    assert same_document(page)
    screenshot(page, "list")


def test_cancel_a_running_job_and_see_it_end_cancelled(page, worker):
    staff = make_user("canceller", staff=True)
    job = services.job_enqueue(handler="jobs.sleep", args={"seconds": 300, "steps": 3000}, requested_by=staff)

    log_in(page, staff)
    page.goto(f"/jobs/{job.pk}/")
    expect(badge(page)).to_have_text(re.compile("running"), timeout=WORKER_TIMEOUT)
    page.click("button[data-action=cancel]")

    expect(page.locator(".messages")).to_contain_text(f"Cancellation of job #{job.pk} requested")
    expect(badge(page)).to_have_text(re.compile("cancelled"), timeout=WORKER_TIMEOUT)
    expect(page.locator("[data-live-part=timeline]")).to_contain_text(re.compile("cancel requested", re.I))
    expect(page.locator("button[data-action=retry]")).to_be_visible()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_retry_a_failed_job_and_see_it_succeed(page, worker, tmp_path):
    staff = make_user("retrier", staff=True)
    cause = tmp_path / "broken"
    cause.touch()
    job = services.job_enqueue(handler="tests.fails_while_file_exists", args={"path": str(cause)}, requested_by=staff)

    log_in(page, staff)
    page.goto(f"/jobs/{job.pk}/")
    expect(badge(page)).to_have_text(re.compile("failed"), timeout=WORKER_TIMEOUT)
    expect(page.locator("[data-live-part=outcome] [data-error]")).to_contain_text("is still there")
    cause.unlink()  # the operator fixes the cause, then retries
    page.click("button[data-action=retry]")

    expect(page.locator(".messages")).to_contain_text(f"Job #{job.pk} was queued again.")
    expect(badge(page)).to_have_text(re.compile("succeeded"), timeout=WORKER_TIMEOUT)
    expect(page.locator("[data-live-part=outcome] [data-result]")).to_contain_text('"fixed": true')
    expect(page.locator("[data-live-part=timeline]")).to_contain_text("Retried")


def test_a_non_staff_user_cannot_see_another_users_job(page):
    alice, bob = make_user("alice"), make_user("bob")
    theirs = services.job_enqueue(handler="jobs.noop", requested_by=bob)
    mine = services.job_enqueue(handler="jobs.noop", requested_by=alice)

    log_in(page, alice)
    expect(page).to_have_url(re.compile(r"/jobs/list/$"))  # no dashboard for non-staff
    expect(page.locator(f"#job-{mine.pk}")).to_be_visible()
    expect(page.locator(f"#job-{theirs.pk}")).to_have_count(0)
    response = page.goto(f"/jobs/{theirs.pk}/")
    assert response.status == 404
    assert page.request.get(f"/jobs/live/?ids={theirs.pk}").json() == {"jobs": []}


def test_core_actions_work_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    staff = make_user("nojs", staff=True)
    job = services.job_enqueue(handler="jobs.noop", requested_by=staff, delay=3600)  # stays queued

    log_in(page, staff)
    page.goto(f"/jobs/{job.pk}/")
    assert page.request.get("/static/jobs/live.js").ok  # static files are served (and simply unused here)
    page.click("button[data-action=cancel]")
    expect(page.locator(".messages")).to_contain_text(f"Job #{job.pk} was cancelled.")
    expect(badge(page)).to_have_text(re.compile("cancelled"))
    page.click("button[data-action=retry]")
    expect(page.locator(".messages")).to_contain_text(f"Job #{job.pk} was queued again.")


def test_admin_bulk_retry_reports_done_and_skipped(page):
    staff = make_user("admin-operator", staff=True)
    failed = [JobFactory(status=Job.Status.FAILED, requested_by=staff, finished_at=timezone.now()) for _ in range(2)]
    running = JobFactory(status=Job.Status.RUNNING, requested_by=staff, progress={"done": 3, "total": 8})

    log_in(page, staff)
    page.goto("/admin/jobs/job/")
    for job in [*failed, running]:
        page.check(f"input[name=_selected_action][value='{job.pk}']")
    page.select_option("select[name=action]", "retry_selected")
    page.click("button[name=index]")

    expect(page.locator("ul.messagelist")).to_contain_text("Retried 2 jobs; skipped 1 (already running).")
    assert sorted(Job.objects.values_list("status", flat=True)) == ["queued", "queued", "running"]
    screenshot(page, "admin")
