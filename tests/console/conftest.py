import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.factories import UserFactory, staff_with


def logged_in(user) -> Client:
    user.save()  # the factory sets the password without saving it; the session hash must match the row
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def admin_web(staff) -> Client:
    """A superuser's browser session."""
    return logged_in(staff)


@pytest.fixture
def user_web(user) -> Client:
    """An ordinary (non-staff) user's browser session."""
    return logged_in(user)


@pytest.fixture
def operator(db):
    """Staff who may see the admin but hold neither retry_job nor cancel_job."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_job"))
    return user


@pytest.fixture
def operator_web(operator) -> Client:
    return logged_in(operator)


def grant(user, *codenames: str) -> None:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def staff_web_with(*codenames: str) -> Client:
    """The browser session of a staff user holding exactly these permissions."""
    return logged_in(staff_with(*codenames))
