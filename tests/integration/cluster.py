"""A real `manage.py qcluster` subprocess pointed at the test database, for crash and recovery tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.waiting import wait_for  # noqa: F401  (re-exported for the integration tests)

BASE_DIR = Path(__file__).resolve().parents[2]
LOG_DIR = BASE_DIR / "artifacts" / "qcluster"

# Short clocks so that a death is noticed in seconds; the logic is the same as in production.
FAST_CLOCKS = {
    "JOBS_HEARTBEAT_SECONDS": "0.5",
    "JOBS_STALE_SECONDS": "3",
    "JOBS_CANCEL_GRACE_SECONDS": "5",
    "JOBS_ONRAMP_SECONDS": "0.5",
    "JOBS_BUILTIN_SCHEDULES": "false",  # the tests count every job in the table: no planted retention runs
}
HANDLERS = "tests.integration.handlers"


def database_url() -> str:
    """The URL of the database the test process is using right now (the test database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Cluster:
    def __init__(self, name: str, **env: str):
        self.name = name
        handlers = ",".join(filter(None, [os.environ.get("JOBS_HANDLER_MODULES"), HANDLERS]))
        self.env = {
            **os.environ, **FAST_CLOCKS, "JOBS_HANDLER_MODULES": handlers, "DATABASE_URL": database_url(),
            "DJANGO_DEBUG": "0", **env,
        }  # fmt: skip
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> Cluster:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log = open(LOG_DIR / f"{self.name}-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), "qcluster"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes the workers down with it
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash or an OOM kill would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # the parent only, as a process manager does: it stops its workers
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc:  # a stray worker left in the group must not outlive the test
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def worker_cluster(request, transactional_db):
    """Start one qcluster (2 workers) on the test database; stopped at teardown."""
    cluster = Cluster(request.node.name[:60]).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def two_clusters(request, transactional_db):
    """Two qclusters (2 workers each) racing for the same queue, as two machines would."""
    clusters = [Cluster(f"{request.node.name[:50]}-{n}").start() for n in (1, 2)]
    yield clusters
    for cluster in clusters:
        cluster.stop()


@pytest.fixture
def three_clusters(request, transactional_db):
    """Three qclusters (2 workers each), as three machines: e.g. racing to start the same firing."""
    clusters = [Cluster(f"{request.node.name[:50]}-{n}").start() for n in (1, 2, 3)]
    yield clusters
    for cluster in clusters:
        cluster.stop()
