"""The job page's dependencies in a real browser: from a waiting job to what it waits for, and back."""

import pytest
from playwright.sync_api import expect

from jobs import services
from tests.browser.conftest import log_in, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_waiting_job_links_to_its_dependency_and_back(page):
    owner = make_user("chainer")
    upstream = services.job_enqueue(handler="jobs.noop", requested_by=owner)
    job = services.job_enqueue(handler="jobs.noop", requested_by=owner, depends_on=[upstream.pk])

    log_in(page, owner)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator("[data-live-part=badge] .badge").first).to_have_text("⧗ waiting")
    expect(page.locator("[data-waiting-for]")).to_have_text(f"the jobs it depends on: #{upstream.pk}")
    page.locator("[data-depends-on]").get_by_role("link", name=f"#{upstream.pk}").click()
    page.wait_for_url(f"**/jobs/{upstream.pk}/")
    needed_by = page.locator("[data-needed-by]")
    expect(needed_by.locator(".badge")).to_have_text("⧗ waiting")
    needed_by.get_by_role("link", name=f"#{job.pk}").click()
    page.wait_for_url(f"**/jobs/{job.pk}/")
