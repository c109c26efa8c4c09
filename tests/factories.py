import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from jobs.models import Job


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pass-word-123")


class JobFactory(factory.django.DjangoModelFactory):
    """A job row as it would stand in a given state (no broker involved)."""

    class Meta:
        model = Job

    handler = "jobs.noop"
    args = factory.LazyFunction(dict)
    timeout = 30
    max_attempts = 3
    trace_id = factory.Sequence(lambda n: f"{n:032x}")
    requested_by = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)


def staff_with(*codenames: str):
    """A staff user holding exactly these permissions (by codename)."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def api_client_for(user) -> APIClient:
    """An API client authenticated as `user` (anonymous for None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
