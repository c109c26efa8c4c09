"""Pausing and resuming queues from the dashboard and the admin: one button, one permission."""

import pytest
from django.test import Client
from django.urls import reverse

from jobs.models import Queue
from tests.console.conftest import grant

pytestmark = pytest.mark.django_db
PAUSE = reverse("jobs:queue-pause", args=["default"])
DASHBOARD = reverse("jobs:dashboard")
QUEUES_ADMIN = reverse("admin:jobs_queue_changelist")


def paused() -> bool:
    return Queue.objects.filter(name="default", paused_at__isnull=False).exists()


def test_the_dashboard_button_pauses_and_resumes_and_a_banner_says_since_when(admin_web):
    assert 'data-pause="default"' in admin_web.get(DASHBOARD).content.decode()
    response = admin_web.post(PAUSE, follow=True)
    assert paused()
    html = response.content.decode()
    assert "Queue default paused." in html
    assert 'data-paused-queue="default"' in html and f"by {admin_web.user.username}" in html
    admin_web.post(PAUSE, {"resume": "1"})
    assert not paused()


def test_staff_without_the_permission_see_no_button_and_cannot_pause(operator_web):
    assert 'data-pause="default"' not in operator_web.get(DASHBOARD).content.decode()
    response = operator_web.post(PAUSE, follow=True)
    assert "You may not pause" in response.content.decode()
    assert not paused()


def test_staff_with_the_permission_may_pause(operator, operator_web):
    grant(operator, "pause_queue")
    operator_web.post(PAUSE)
    assert paused()


def test_anonymous_is_sent_to_log_in_and_nothing_changes():
    response = Client().post(PAUSE)
    assert response.status_code == 302 and reverse("jobs:login") in response["Location"]
    assert not paused()


def test_an_ordinary_user_cannot_pause(user_web):
    user_web.post(PAUSE)
    assert not paused()


def test_an_unknown_queue_is_a_message_not_an_error(admin_web):
    response = admin_web.post(reverse("jobs:queue-pause", args=["nowhere"]), follow=True)
    assert response.status_code == 200
    assert "Unknown queue" in response.content.decode()
    assert not Queue.objects.filter(name="nowhere").exists()


def test_the_pause_button_answers_only_post(admin_web):
    assert admin_web.get(PAUSE).status_code == 405


def test_admin_lists_every_queue_and_pauses_the_selected(admin_web):
    html = admin_web.get(QUEUES_ADMIN).content.decode()
    assert "default" in html and "0 / 0 / 0" in html
    response = admin_web.post(QUEUES_ADMIN, {"action": "pause_selected", "_selected_action": ["default"]}, follow=True)
    assert "Paused default." in response.content.decode()
    assert paused()


def test_admin_hides_the_pause_action_without_the_permission(operator, operator_web):
    grant(operator, "view_queue")
    html = operator_web.get(QUEUES_ADMIN).content.decode()
    assert "pause_selected" not in html


def test_admin_sets_a_queue_limit_through_the_service(admin_web):
    admin_web.get(QUEUES_ADMIN)
    url = reverse("admin:jobs_queue_change", args=["default"])
    admin_web.post(url, {"concurrency_limit": "3"})
    assert Queue.objects.get(name="default").concurrency_limit == 3
    response = admin_web.post(url, {"concurrency_limit": "0"})
    assert response.status_code == 200  # the form shows the error
    assert Queue.objects.get(name="default").concurrency_limit == 3
