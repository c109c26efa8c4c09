"""The API of flow control: deadlines and strict fields at enqueue, queues listed, paused and resumed."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from jobs.models import Job, Queue
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db
JOBS = reverse("api:job-list")
QUEUES = reverse("api:queue-list")


def pause(name="default"):
    return reverse("api:queue-pause", args=[name])


def resume(name="default"):
    return reverse("api:queue-resume", args=[name])


@pytest.fixture
def operator_client():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="pause_queue"))
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


def test_enqueue_with_a_deadline(api_client):
    deadline = timezone.now() + timedelta(minutes=5)
    response = api_client.post(JOBS, {"handler": "jobs.noop", "deadline": deadline.isoformat()}, format="json")
    assert response.status_code == 202
    assert Job.objects.get().deadline == deadline


def test_a_deadline_in_the_past_is_a_field_error(api_client):
    past = (timezone.now() - timedelta(minutes=5)).isoformat()
    response = api_client.post(JOBS, {"handler": "jobs.noop", "deadline": past}, format="json")
    assert response.status_code == 400
    assert "deadline" in str(response.json())  # the field is named, whatever the error body's shape
    assert not Job.objects.exists()


def test_unknown_fields_are_refused_not_ignored(api_client):
    response = api_client.post(JOBS, {"handler": "jobs.noop", "dedline": "2030-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 400
    assert "dedline" in str(response.json())
    assert not Job.objects.exists()


def test_expired_jobs_are_filterable(staff_client):
    expired = JobFactory(status=Job.Status.EXPIRED)
    JobFactory(status=Job.Status.QUEUED)
    response = staff_client.get(JOBS, {"status": "expired"})
    assert [job["id"] for job in response.json()["results"]] == [expired.pk]


def test_queues_list_depth_running_age_and_paused_state(staff_client):
    JobFactory(status=Job.Status.QUEUED, run_after=timezone.now() - timedelta(seconds=30))
    JobFactory(status=Job.Status.RUNNING)
    response = staff_client.get(QUEUES)
    assert response.status_code == 200
    [queue] = response.json()
    assert (queue["name"], queue["queued"], queue["running"], queue["paused"]) == ("default", 1, 1, False)
    assert queue["oldest_queued_age_seconds"] >= 30


def test_an_operator_pauses_and_resumes_a_queue(operator_client):
    response = operator_client.post(pause())
    assert response.status_code == 200
    body = response.json()
    assert (body["paused"], body["paused_by"]) == (True, operator_client.user.username)
    assert Queue.objects.get(name="default").paused_by == operator_client.user
    response = operator_client.post(resume())
    assert (response.status_code, response.json()["paused"]) == (200, False)


def test_pausing_an_unknown_queue_is_a_field_error(operator_client):
    response = operator_client.post(pause("nowhere"))
    assert response.status_code == 400
    assert "queue" in str(response.json())


@pytest.mark.parametrize("who", ["anonymous", "user", "staff_without_permission"])
def test_only_operators_with_the_permission_pause_queues(who, api_client, db):
    client = APIClient()
    if who == "user":
        client = api_client
    elif who == "staff_without_permission":
        client.force_authenticate(UserFactory(is_staff=True))
    response = client.post(pause())
    assert response.status_code == (401 if who == "anonymous" else 403)
    assert not Queue.objects.filter(paused_at__isnull=False).exists()


@pytest.mark.parametrize("who", ["anonymous", "user"])
def test_only_staff_list_queues(who, api_client):
    client = api_client if who == "user" else APIClient()
    assert client.get(QUEUES).status_code == (401 if who == "anonymous" else 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"handler": "jobs.noop", "unique_key": 7}, "unique_key"),
        ({"handler": 7}, "handler"),
        ({"handler": "jobs.noop", "queue": ["default"]}, "queue"),
        ({"handler": "jobs.noop", "delay": False}, "delay"),
    ],
)
def test_a_field_of_the_wrong_json_type_is_refused_not_converted(api_client, body, field):
    response = api_client.post(JOBS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Job.objects.exists()
