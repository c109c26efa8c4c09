"""Throttles and quotas: the token endpoint per address, enqueue per user, failed logins at every
door that checks a password, and a cap on one user's active jobs. Each answers 429 with Retry-After."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from jobs.models import Job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TOKEN = reverse("api:auth-token")
JOBS = reverse("api:job-list")


def test_the_token_endpoint_is_throttled_per_address(settings):
    settings.API_THROTTLE_TOKEN = "2/minute"
    UserFactory(username="ann")
    client = APIClient()
    codes = [client.post(TOKEN, {"username": "ann", "password": "pass-word-123"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = client.post(TOKEN, {"username": "ann", "password": "pass-word-123"})
    assert int(response["Retry-After"]) > 0 and response.json()["code"] == "throttled"


def test_enqueue_is_throttled_per_user(settings, api_client):
    settings.API_THROTTLE_ENQUEUE = "2/minute"
    codes = [api_client.post(JOBS, {"handler": "jobs.noop"}, format="json").status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert Job.objects.count() == 2
    other = APIClient()
    other.force_authenticate(UserFactory())
    assert other.post(JOBS, {"handler": "jobs.noop"}, format="json").status_code == 202
    assert api_client.get(JOBS).status_code == 200  # reading is not enqueueing


def test_a_user_over_the_active_job_cap_gets_429_until_a_job_ends(settings, api_client):
    settings.JOBS_MAX_ACTIVE_PER_USER = 2
    first, _ = (api_client.post(JOBS, {"handler": "jobs.noop"}, format="json").json() for _ in range(2))
    response = api_client.post(JOBS, {"handler": "jobs.noop"}, format="json")
    assert response.status_code == 429 and response.json()["code"] == "quota_exceeded"
    assert response["Retry-After"] == str(settings.JOBS_QUOTA_RETRY_AFTER)
    assert api_client.post(reverse("api:job-cancel", args=[first["id"]])).status_code == 202
    assert api_client.post(JOBS, {"handler": "jobs.noop"}, format="json").status_code == 202


def test_superusers_have_no_active_job_cap(settings, staff_client):
    settings.JOBS_MAX_ACTIVE_PER_USER = 1
    assert [staff_client.post(JOBS, {"handler": "jobs.noop"}, format="json").status_code for _ in range(2)] == [202, 202]


@pytest.fixture
def locked_out(settings):
    """`ann` after LOGIN_MAX_FAILURES wrong passwords at the console's login."""
    settings.LOGIN_MAX_FAILURES = 3
    UserFactory(username="ann")
    client = Client()
    for _ in range(3):
        response = client.post(reverse("jobs:login"), {"username": "ann", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    return "ann"


def test_a_locked_out_username_cannot_log_in_even_with_the_right_password(locked_out, settings):
    response = Client().post(reverse("jobs:login"), {"username": locked_out, "password": "pass-word-123"})
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.LOGIN_LOCKOUT_SECONDS)
    assert "_auth_user_id" not in Client().session


def test_the_lockout_covers_the_admin_login_and_the_token_endpoint(locked_out):
    admin = Client().post(reverse("admin:login"), {"username": locked_out, "password": "pass-word-123"})
    assert admin.status_code == 429
    token = APIClient().post(TOKEN, {"username": locked_out, "password": "pass-word-123"})
    assert token.status_code == 429 and token.json()["code"] == "throttled"


def test_failures_from_one_address_lock_it_out_for_every_username(settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 2
    UserFactory(username="bob")
    client = Client()
    for name in ("x", "y"):
        client.post(reverse("jobs:login"), {"username": name, "password": "wrong"})
    assert client.post(reverse("jobs:login"), {"username": "bob", "password": "pass-word-123"}).status_code == 429


def test_a_good_login_is_not_counted_against_the_user(settings):
    settings.LOGIN_MAX_FAILURES = 2
    UserFactory(username="cy")
    client = Client()
    client.post(reverse("jobs:login"), {"username": "cy", "password": "wrong"})
    assert client.post(reverse("jobs:login"), {"username": "cy", "password": "pass-word-123"}).status_code == 302
    client.post(reverse("jobs:logout"))
    client.post(reverse("jobs:login"), {"username": "cy", "password": "wrong"})
    assert client.post(reverse("jobs:login"), {"username": "cy", "password": "pass-word-123"}).status_code == 302
