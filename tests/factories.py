import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

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
