"""The schedule pages in a real browser: from the navigation to the list, to a schedule's page, then
Run now, and the firing it queued is in the latest runs. No worker: the firing waits queued."""

import re

import pytest
from playwright.sync_api import expect

from jobs import services
from jobs.models import Job
from tests.browser.conftest import log_in, make_user, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_open_a_schedule_and_run_it_now(page):
    staff = make_user("scheduler", staff=True)
    services.schedule_create(name="nightly-report", handler="jobs.noop", cron="0 3 * * *", timezone="Europe/Paris")
    services.schedule_create(name="every-minute", handler="jobs.noop", interval_seconds=60)
    log_in(page, staff)

    page.click("nav >> text=Schedules")
    expect(page).to_have_url(re.compile(r"/jobs/schedules/$"))
    row = page.locator('[data-schedule="nightly-report"]')
    expect(row).to_contain_text("cron 0 3 * * * (Europe/Paris)")
    expect(page.locator('[data-schedule="every-minute"]')).to_contain_text("every 60 s")
    screenshot(page, "schedules")

    row.get_by_role("link", name="nightly-report").click()
    expect(page).to_have_url(re.compile(r"/jobs/schedules/nightly-report/$"))
    expect(page.locator("ol.next-runs li")).to_have_count(5)
    expect(page.locator("table.runs tbody tr[data-run]")).to_have_count(1)  # the planted next firing

    page.click("button[data-action=run-now]")
    run = Job.objects.get(schedule__name="nightly-report", scheduled_for__isnull=True)
    expect(page.locator(".messages")).to_contain_text(f"Schedule nightly-report: job #{run.pk} queued now.")
    fired = page.locator(f'table.runs tr[data-run="{run.pk}"]')
    expect(fired).to_contain_text("run now")
    expect(fired.locator(".badge")).to_have_attribute("data-status", "queued")
    screenshot(page, "schedule")

    fired.get_by_role("link", name=f"#{run.pk}").click()
    expect(page.locator("[data-fired-by]")).to_contain_text("Fired by schedule nightly-report (run now)")
