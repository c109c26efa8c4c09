"""A worker that finishes a job while the database is down records the outcome once it returns,
instead of leaving the job to the stale sweep, which would run it a second time."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.integration.cluster import BASE_DIR, Cluster, wait_for
from tests.security.test_database_down import own_postgres  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def test_an_outcome_reached_during_an_outage_is_recorded_when_the_database_returns(own_postgres, tmp_path):
    url, stop, start = own_postgres
    env = {**os.environ, "DATABASE_URL": url, "JOBS_HANDLER_MODULES": "tests.integration.handlers"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    # Stale only after 20 s: the outage is far shorter, so only the worker's own retry can record it.
    cluster = Cluster("outage", DATABASE_URL=url, JOBS_STALE_SECONDS="20").start()
    marker = tmp_path / "go"
    try:
        enqueued = subprocess.run(
            [sys.executable, "manage.py", "jobs_enqueue", "tests.wait_for_file", "--args", f'{{"path": "{marker}"}}'],
            cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        job_id = int(enqueued.stdout.strip())
        with psycopg.connect(url, autocommit=True) as db:
            row = lambda: db.execute("SELECT status, attempts FROM jobs_job WHERE id = %s", [job_id]).fetchone()  # noqa: E731
            wait_for(lambda: row()[0] == "running", message="the job to run")
        stop()
        marker.touch()
        wait_for(lambda: Path(f"{marker}.seen").exists(), message="the handler to finish while the database is down")
        start()
        with psycopg.connect(url, autocommit=True) as db:
            status = lambda: db.execute("SELECT status, attempts FROM jobs_job WHERE id = %s", [job_id]).fetchone()  # noqa: E731
            wait_for(lambda: status()[0] == "succeeded", timeout=60, message="the outcome to be recorded")
            assert status() == ("succeeded", 1)
            kinds = [k for (k,) in db.execute("SELECT kind FROM jobs_jobevent WHERE job_id = %s ORDER BY id", [job_id])]
        assert kinds == ["started", "succeeded"]  # one run, no requeue
    finally:
        cluster.stop()
