import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory

ROLES = ["anonymous", "owner", "other_user", "staff_without_permissions", "operator", "staff_with_permissions", "superuser"]
STAFF_PERMISSIONS = ["view_job", "retry_job", "cancel_job", "add_feed", "change_product"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


def make_user(role: str, owner):
    """The user playing `role` (None for anonymous); `owner` requested the jobs under test."""
    if role == "anonymous":
        return None
    if role == "owner":
        return owner
    if role == "superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory(is_staff=role != "other_user")
    codenames = {"operator": ["view_job"], "staff_with_permissions": STAFF_PERMISSIONS}.get(role, [])
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user
