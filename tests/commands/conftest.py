import threading

import pytest
from django.db import connection
from django.utils import timezone

from jobs import runner
from jobs.models import Job
from tests.commands.call import run_command


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # JobFactory makes a user per job; the default hasher costs a third of a second per user here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def command():
    return run_command


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
