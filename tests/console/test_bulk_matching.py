"""Retry or cancel every job matching the list's filter: a link on the list, a confirmation page that
says how many, and a POST with confirm=1 through the same service as the API. Never a 500."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from jobs.models import Job
from tests.console.conftest import grant
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db
MATCHING = reverse("jobs:bulk-matching")
LIST = reverse("jobs:list")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def statuses() -> list[str]:
    return list(Job.objects.order_by("id").values_list("status", flat=True))


def test_the_filtered_list_links_to_both_bulk_actions(admin_web):
    JobFactory(status=Job.Status.FAILED)
    html = admin_web.get(LIST, {"status": "failed"}).content.decode()
    assert f'href="{MATCHING}?action=retry&amp;status=failed"' in html
    assert f'href="{MATCHING}?action=cancel&amp;status=failed"' in html
    assert "bulk-matching" not in admin_web.get(LIST).content.decode()  # no filter: no "all jobs" button


def test_the_confirmation_says_how_many_and_changes_nothing(admin_web):
    JobFactory.create_batch(3, status=Job.Status.FAILED, handler="jobs.noop")
    JobFactory(status=Job.Status.FAILED, handler="jobs.sleep")
    response = admin_web.get(MATCHING, {"action": "retry", "status": "failed", "handler": "jobs.noop"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Retry all 3 failed, cancelled or expired jobs matching this filter?" in html
    assert '<input type="hidden" name="handler" value="jobs.noop">' in html
    assert '<input type="hidden" name="confirm" value="1">' in html
    assert statuses() == ["failed"] * 4


def test_confirming_retries_the_matching_jobs_and_goes_back_to_the_filtered_list(admin_web):
    JobFactory.create_batch(2, status=Job.Status.FAILED, handler="jobs.noop")
    JobFactory(status=Job.Status.FAILED, handler="jobs.sleep")
    body = {"action": "retry", "status": "failed", "handler": "jobs.noop", "confirm": "1"}
    response = admin_web.post(MATCHING, body)
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?status=failed&handler=jobs.noop"
    assert messages_of(response) == ["Retried 2 jobs."]
    assert statuses() == ["queued", "queued", "failed"]


def test_confirming_cancel_cancels_the_active_matching_jobs(admin_web):
    JobFactory(status=Job.Status.QUEUED)
    JobFactory(status=Job.Status.SUCCEEDED)
    response = admin_web.post(MATCHING, {"action": "cancel", "queue": "default", "confirm": "1"})
    assert messages_of(response) == ["Cancelled 1 job."]
    assert statuses() == ["cancelled", "succeeded"]


def test_a_post_without_confirm_only_asks(admin_web):
    JobFactory(status=Job.Status.FAILED)
    response = admin_web.post(MATCHING, {"action": "retry", "status": "failed"})
    assert response.status_code == 200
    assert statuses() == ["failed"]


def test_the_limit_is_said_and_kept(admin_web, settings):
    settings.JOBS_BULK_MAX_JOBS = 1
    JobFactory.create_batch(2, status=Job.Status.FAILED)
    assert "At most 1 are done at once" in admin_web.get(MATCHING, {"action": "retry", "status": "failed"}).content.decode()
    response = admin_web.post(MATCHING, {"action": "retry", "status": "failed", "confirm": "1"})
    assert "2 matched; at most 1 are done at once" in messages_of(response)[0]
    assert statuses() == ["queued", "failed"]


@pytest.mark.parametrize(
    "params",
    [
        {"action": "delete", "status": "failed"},
        {"action": "retry"},
        {"action": "retry", "status": "nope"},
        {"action": "retry", "created_after": "yesterday"},
        {"action": "retry", "handler": "no.such.handler"},
    ],
)
def test_bad_input_goes_back_with_an_error(admin_web, params):
    JobFactory(status=Job.Status.FAILED)
    for response in (admin_web.get(MATCHING, params), admin_web.post(MATCHING, {**params, "confirm": "1"})):
        assert response.status_code == 302
        assert messages_of(response)
    assert statuses() == ["failed"]


def test_staff_without_the_permission_is_refused_then_allowed_once_granted(operator_web, operator):
    JobFactory(status=Job.Status.FAILED)
    assert "bulk-matching" not in operator_web.get(LIST, {"status": "failed"}).content.decode()
    response = operator_web.post(MATCHING, {"action": "retry", "status": "failed", "confirm": "1"})
    assert messages_of(response) == ["You do not have permission to retry jobs."]
    assert operator_web.get(MATCHING, {"action": "retry", "status": "failed"}).status_code == 302
    assert statuses() == ["failed"]
    grant(operator, "retry_job")
    operator_web.post(MATCHING, {"action": "retry", "status": "failed", "confirm": "1"})
    assert statuses() == ["queued"]


def test_an_ordinary_user_acts_on_their_own_jobs_only(user_web, user):
    JobFactory(status=Job.Status.FAILED, requested_by=user)
    JobFactory(status=Job.Status.FAILED)
    response = user_web.post(MATCHING, {"action": "retry", "status": "failed", "confirm": "1"})
    assert messages_of(response) == ["Retried 1 job."]
    assert statuses() == ["queued", "failed"]


def test_anonymous_goes_to_the_login_page(client):
    JobFactory(status=Job.Status.FAILED)
    response = client.post(MATCHING, {"action": "retry", "status": "failed", "confirm": "1"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert statuses() == ["failed"]
