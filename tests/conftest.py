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


@pytest.fixture(autouse=True)
def _empty_redis_broker(settings):
    """With the Redis broker, every test starts from an empty queue (its job ids restart at 1)."""
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()
