"""The console for daily use, in a real browser: what a queued job waits for, when jobs failed,
Retry on the dashboard, bulk retry and cancel on the list (with and without JavaScript), a feed
import's summary with its CSV of invalid rows, the admin's Retry/Cancel buttons, and every page at
420 px without sideways scrolling. One screenshot of each page at desktop width and at 420 px."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jobs import runner
from jobs.models import Job, JobEvent
from tests.browser.conftest import log_in, make_user, screenshot
from tests.factories import JobFactory
from tests.updater.helpers import upload
from updater.services import feed_import_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NARROW = {"width": 420, "height": 900}
DESKTOP = {"width": 1280, "height": 900}
ERROR = {"type": "TimeoutError", "message": "upstream took too long"}


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def ahead(**delta):
    return timezone.now() + timedelta(**delta)


def fits(page) -> None:
    """Nothing on the page is wider than the window: it never scrolls sideways."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for selector in [".topbar", ".filters", "main"]:
        for box in [el.bounding_box() for el in page.locator(selector).all()]:
            assert box is None or box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, selector


def screenshots(page, name: str, *, narrow_fits: bool = True) -> None:
    """`name` at desktop width and `name-420` at 420 px (where nothing may scroll sideways), then back."""
    screenshot(page, name)
    page.set_viewport_size(NARROW)
    if narrow_fits:
        fits(page)
    screenshot(page, f"{name}-420")
    page.set_viewport_size(DESKTOP)


def waiting_and_failed(owner) -> dict[str, Job]:
    """A job delayed by about nine minutes, one between attempts, two that failed, one running."""
    return {
        "scheduled": JobFactory(handler="jobs.noop", requested_by=owner, run_after=ahead(minutes=9, seconds=20)),
        "retrying": JobFactory(
            handler="jobs.sleep", requested_by=owner, attempts=1, max_attempts=3, run_after=ahead(seconds=40),
            error=ERROR, started_at=ago(seconds=3),
        ),  # fmt: skip
        "failed": JobFactory(
            handler="jobs.fail", requested_by=owner, status=Job.Status.FAILED, attempts=3,
            created_at=ago(minutes=20), started_at=ago(minutes=4, seconds=2), finished_at=ago(minutes=4), error=ERROR,
        ),  # fmt: skip
        "failed_too": JobFactory(
            handler="jobs.fail", requested_by=owner, status=Job.Status.FAILED, attempts=1, max_attempts=1,
            started_at=ago(minutes=2, seconds=1), finished_at=ago(minutes=2), error=ERROR,
        ),  # fmt: skip
        "running": JobFactory(
            handler="jobs.sleep", requested_by=owner, status=Job.Status.RUNNING, attempts=1, started_at=ago(seconds=20),
            heartbeat_at=timezone.now(), progress={"done": 3, "total": 8},
        ),  # fmt: skip
    }


def test_the_list_says_what_queued_jobs_wait_for_and_when_jobs_failed(page):
    staff = make_user("lister", staff=True)
    jobs = waiting_and_failed(staff)

    log_in(page, staff)
    page.goto("/jobs/list/")
    expect(page.locator(f"#job-{jobs['scheduled'].pk} .badge")).to_have_text("◷ scheduled in 9 min")
    retrying = page.locator(f"#job-{jobs['retrying'].pk} .badge")
    expect(retrying).to_have_text(re.compile(r"^↻ retry 2/3 in \d+\.\d s$"))
    first = retrying.inner_text()
    expect(retrying).not_to_have_text(first)  # the live update counts it down
    expect(page.locator(f"#job-{jobs['failed'].pk} [data-live-part=finished]")).to_have_text(
        re.compile(r"failed 4\sminutes ago")
    )
    screenshots(page, "list-waiting")


def test_bulk_retry_and_cancel_on_the_list_work_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    staff = make_user("bulk", staff=True)
    jobs = waiting_and_failed(staff)

    log_in(page, staff)
    page.goto("/jobs/list/")
    expect(page.locator("[data-select-all]")).to_be_hidden()  # a convenience of the script only
    for name in ["failed", "failed_too", "running"]:
        page.check(f"input[name=ids][value='{jobs[name].pk}']")
    page.click("button[data-bulk=retry]")
    expect(page.locator(".messages")).to_contain_text("Retried 2 jobs; skipped 1 (already running).")
    expect(page).to_have_url(re.compile(r"/jobs/list/$"))

    page.click("button[data-bulk=cancel]")  # nothing ticked
    expect(page.locator(".messages")).to_contain_text("Select the jobs to cancel first.")
    assert sorted(Job.objects.filter(status=Job.Status.FAILED).values_list("pk", flat=True)) == []


def test_select_all_then_cancel_counts_by_reason(page):
    staff = make_user("selector", staff=True)
    jobs = waiting_and_failed(staff)

    log_in(page, staff)
    page.goto("/jobs/list/?status=queued&status=running")
    page.check("[data-select-all]")
    expect(page.locator("input[name=ids]:checked")).to_have_count(3)
    page.click("button[data-bulk=cancel]")
    expect(page.locator(".messages")).to_contain_text("Cancelled 3 jobs.")
    assert Job.objects.get(pk=jobs["scheduled"].pk).status == Job.Status.CANCELLED
    assert Job.objects.get(pk=jobs["running"].pk).cancel_requested_at is not None
    screenshot(page, "list-bulk")


def test_the_dashboard_shows_waiting_jobs_and_retries_a_failure(page):
    staff = make_user("dash", staff=True)
    jobs = waiting_and_failed(staff)
    JobFactory.create_batch(4, requested_by=staff, status=Job.Status.SUCCEEDED, finished_at=ago(minutes=1))

    log_in(page, staff)
    expect(page).to_have_url(re.compile(r"/jobs/$"))
    expect(page.locator(f"[data-waiting='{jobs['retrying'].pk}'] .badge")).to_have_text(re.compile(r"retry 2/3 in"))
    expect(page.locator(f"[data-waiting='{jobs['scheduled'].pk}'] .badge")).to_have_text("◷ scheduled in 9 min")
    expect(page.locator(f"[data-failure='{jobs['failed'].pk}']")).to_contain_text(re.compile(r"4\sminutes ago"))
    screenshots(page, "dashboard-daily")

    page.locator(f"[data-failure='{jobs['failed'].pk}'] button[data-action=retry]").click()
    expect(page.locator(".messages")).to_contain_text(f"Job #{jobs['failed'].pk} was queued again.")
    expect(page).to_have_url(re.compile(r"/jobs/$"))
    expect(page.locator(f"[data-failure='{jobs['failed'].pk}']")).to_have_count(0)
    assert Job.objects.get(pk=jobs["failed"].pk).status == Job.Status.QUEUED


def test_a_feed_import_reads_as_a_summary_and_its_invalid_rows_download_as_csv(page, media_dir):
    staff = make_user("feeds", staff=True)
    good = [f"SKU-{n:04d},Lamp {n},{n}.50,EUR,{n % 7},true" for n in range(1, 41)]
    bad = [f"SKU-B{n:03d},Broken,n/a,EUR,1,true" for n in range(1, 131)]
    feed = "sku,name,price,currency,stock,active\n" + "\n".join(good[:20] + bad + good[20:]) + "\n"
    job = feed_import_start(upload=upload(feed), requested_by=staff, chunk_size=50)
    runner.run(job.pk)

    log_in(page, staff)
    page.goto(f"/jobs/{job.pk}/")
    summary = page.locator("[data-feed-summary]")
    expect(summary.locator("[data-tally=created]")).to_have_text("40")
    expect(summary.locator("[data-tally=invalid]")).to_have_text("130")
    expect(summary.locator(".feed-errors tbody tr")).to_have_count(10)
    expect(summary.locator(".feed-errors tbody tr").first).to_contain_text("22")  # header is line 1
    expect(summary.locator("details pre")).to_be_hidden()  # the raw JSON is folded away
    screenshots(page, "job-feed")

    with page.expect_download() as download:
        summary.locator("[data-download-errors]").click()
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0] == "line,reason" and len(lines) == 131
    assert lines[1].startswith("22,price:")


def test_the_job_page_of_a_job_between_attempts(page):
    staff = make_user("waiter", staff=True)
    job = waiting_and_failed(staff)["retrying"]
    JobEvent.objects.create(job=job, at=ago(seconds=2), kind=JobEvent.Kind.STARTED, attempt=1)
    message = "upstream took too long (retry in 40.0 s)"
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.RETRY_SCHEDULED, attempt=1, message=message)

    log_in(page, staff)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator("[data-live-part=badge] .badge")).to_have_text(re.compile(r"retry 2/3 in \d+\.\d s"))
    expect(page.locator("[data-last-failure]")).to_contain_text("attempt 1")
    screenshots(page, "job-retrying")


def test_the_admin_job_page_retries_and_shows_event_times_to_the_millisecond(page):
    staff = make_user("admin-buttons", staff=True)
    job = waiting_and_failed(staff)["failed"]
    for attempt in (1, 2, 3):
        JobEvent.objects.create(job=job, at=ago(minutes=9 - attempt), kind=JobEvent.Kind.STARTED, attempt=attempt)
        JobEvent.objects.create(job=job, at=ago(minutes=9 - attempt), kind=JobEvent.Kind.FAILED, attempt=attempt)

    log_in(page, staff)
    page.goto(f"/admin/jobs/job/{job.pk}/change/")
    expect(page.locator(".field-at_ms").first).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\s*$"))
    expect(page.locator("button[data-action=cancel]")).to_have_count(0)
    screenshots(page, "admin-job", narrow_fits=False)  # Django's admin draws its own narrow layout

    page.click("button[data-action=retry]")
    expect(page.locator("ul.messagelist")).to_contain_text(f"Job #{job.pk} was queued again.")
    expect(page.locator("button[data-action=cancel]")).to_be_visible()  # queued now: it may be cancelled
    page.click("button[data-action=cancel]")
    expect(page.locator("ul.messagelist")).to_contain_text(f"Job #{job.pk} was cancelled.")
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED


def test_the_upload_page_and_the_login_fit_a_narrow_screen(new_page):
    page = new_page()
    page.set_viewport_size(NARROW)
    page.goto("/jobs/login/")
    fits(page)
    staff = make_user("narrow", staff=True)
    log_in(page, staff)
    page.goto("/updater/feeds/upload/")
    fits(page)
    page.goto("/jobs/list/?status=failed&status=queued")
    fits(page)
