import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def api_client(user) -> APIClient:
    """An API client logged in as an ordinary (non-staff) user."""
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


@pytest.fixture
def staff_client(staff) -> APIClient:
    client = APIClient()
    client.force_authenticate(staff)
    client.user = staff
    return client
