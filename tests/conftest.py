import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from jobs import registry, runner
from jobs.models import Job
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Factories make a user per job; the default hasher costs a third of a second per user here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def registered_handlers() -> Iterator[None]:
    """Whatever handlers are registered inside the block are gone after it (the registry is global)."""
    before = dict(registry._registry)
    try:
        yield
    finally:
        registry._registry.clear()
        registry._registry.update(before)


@pytest.fixture
def handler_registry():
    """`jobs.registry` for a test that registers its own handlers; they are removed when it ends."""
    with registered_handlers():
        yield registry


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


@pytest.fixture
def in_process_worker(transactional_db):
    """A thread that runs every due queued job with the real runner, as a qcluster worker would."""
    stop = threading.Event()

    def work() -> None:
        try:
            while not stop.is_set():
                due = Job.objects.queued().filter(run_after__lte=timezone.now()).order_by("id").first()
                if due is None:
                    stop.wait(0.02)
                else:
                    runner.run(due.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)
