"""The systems under test, their environments, and the processes bench/run.py starts and stops:
qcluster (product or bare django-q2), procrastinate's workers, the Celery worker, gunicorn, and the
measuring agent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

BASE_DIR = Path(__file__).resolve().parent.parent
PY = sys.executable
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
WORK = Path(tempfile.mkdtemp(prefix="bench_"))
SQLITE_URL = f"sqlite:///{WORK / 'bench.sqlite3'}"
LOGS = WORK / "logs"
# Variables of the caller's shell that would change what is measured.
SCRUB = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "Q_CLUSTER_NAME", "JOBS_WORKERS", "DJANGO_DEBUG")


@dataclass(frozen=True)
class Setup:
    """A database: what the product and its peers are compared on (the product's queue is its Job table)."""

    key: str
    label: str
    database: str  # "sqlite" | "postgresql"

    @property
    def database_url(self) -> str:
        return SQLITE_URL if self.database == "sqlite" else PG_URL


SQLITE = Setup("sqlite", "SQLite", "sqlite")
PG = Setup("pg", "PostgreSQL", "postgresql")
SETUPS = (SQLITE, PG)
SYSTEM_LABELS = {
    "product": "product (Job table queue)",
    "djq-keep": "bare django-q2, ORM broker, save_limit 0 (every result kept)",
    "djq": "bare django-q2, ORM broker, save_limit 250 (default)",
    "procrastinate": "procrastinate (LISTEN/NOTIFY)",
    "celery": "Celery 5 + Redis (no result backend)",
}
SHORT_LABELS = {"product": "product", "djq-keep": "django-q2 (save_limit 0)", "djq": "django-q2 (save_limit 250)",
                "procrastinate": "procrastinate", "celery": "Celery + Redis"}
# The product's throughput runs: no on-ramp (a new cluster would otherwise take 2 s to reach its
# full capacity; every run warms up first anyway), the bench's stamping handler loaded.
PRODUCT_ENV = {"JOBS_ONRAMP_SECONDS": "0", "JOBS_HANDLER_MODULES": "bench.handlers"}


def env_for(setup: Setup, *, system: str = "product", workers: int = 2, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings_bare" if system.startswith("djq") else "bench.settings",
        BENCH_DJQ_SAVE_LIMIT="0" if system == "djq-keep" else "250",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdefghijklmnop",
        DATABASE_URL=setup.database_url,
        JOBS_WORKERS=str(workers),
        BENCH_REDIS_URL=REDIS_URL,
        BENCH_DATABASE_URL=PG_URL,
        MEDIA_ROOT=str(WORK / "media"),
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "INFO"),  # the product's default
        PYTHONUNBUFFERED="1",
        # Plain HTTP on 127.0.0.1, and load far beyond one user's fair share: the guards are off.
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        API_THROTTLE_ENQUEUE="",
        API_THROTTLE_TOKEN="",
        JOBS_MAX_ACTIVE_PER_USER="0",
    )
    if system == "product":
        env.update(PRODUCT_ENV)
    env.update(extra)
    return env


# --- databases ---------------------------------------------------------------------------------


def _server_url() -> str:
    """The server's `postgres` database: there before the benchmark's own is created."""
    return PG_URL.rpartition("/")[0] + "/postgres"


def postgres_recreate() -> None:
    """Drop and create the benchmark's own database (never one a test or a user works in)."""
    name = PG_URL.rpartition("/")[2]
    assert "bench" in name, f"refusing to drop {name!r}: the benchmark database's name must contain 'bench'"
    with psycopg.connect(_server_url(), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(setup: Setup) -> None:
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env_for(setup),
                   check=True)


def reset_tables(setup: Setup) -> None:
    """Empty what a run leaves behind (jobs, events, broker rows, django-q2 results), straight from
    here rather than through Django: it is done before every run."""
    tables = ["jobs_jobevent", "jobs_job", "jobs_cluster", "django_q_ormq", "django_q_task", "bench_ceiling_ceilingrow"]
    if setup.database == "postgresql":
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {', '.join(tables + ['procrastinate_jobs'])} RESTART IDENTITY CASCADE")
    else:
        import sqlite3

        with sqlite3.connect(SQLITE_URL.removeprefix("sqlite:///"), timeout=30) as conn:
            for table in tables:
                conn.execute(f"DELETE FROM {table}")
    redis_flush()


def procrastinate_schema() -> None:
    subprocess.run([PY, "-c", "from bench.procr import main; main(['schema'])"], cwd=BASE_DIR, check=True,
                   env=env_for(PG, system="procrastinate"))


def redis_flush() -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()


def server_versions() -> dict[str, str]:
    with psycopg.connect(_server_url()) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    return {"postgresql": postgres, "redis": redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]}


# --- processes ---------------------------------------------------------------------------------


def agent(setup: Setup, action: str, *args: str, system: str = "product", timeout: float = 900, **env) -> dict:
    """Run one measurement in a process configured for `setup` and `system`; its JSON result."""
    proc = subprocess.run([PY, "-m", "bench.agent", action, "--system", system, *args], cwd=BASE_DIR,
                          env=env_for(setup, system=system, **env), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"agent {action} ({setup.key}, {system}) failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Group:
    """Several services started and stopped together (procrastinate's worker processes)."""

    def __init__(self, services: list[Service]):
        self.services = services

    @property
    def pgids(self) -> list[int]:
        return [s.proc.pid for s in self.services]

    def stop(self) -> None:
        for service in self.services:
            service.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Service:
    """A long-running child in its own process group, logging to a file; stop() ends the group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]):
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOGS / f"{name}-{time.time_ns()}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def pgids(self) -> list[int]:
        return [self.proc.pid]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():  # nothing is in flight when a run ends: no need for a graceful stop
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever the group left behind
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def workers(setup: Setup, *, system: str, count: int = 2, **extra: str) -> Service | Group:
    """The worker side of `system`: a qcluster (product or bare django-q2), `count` procrastinate
    worker processes, or a Celery worker with `count` pool processes."""
    if system == "procrastinate":
        command = [PY, "-c", "from bench.procr import main; main(['worker'])"]
        return Group([Service(f"procrastinate-{i}", command, env_for(setup, system=system)) for i in range(count)])
    if system == "celery":
        command = [PY, "-m", "celery", "-A", "bench.celery_app", "worker", "--concurrency", str(count),
                   "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                   "--without-heartbeat"]  # fmt: skip
    else:
        command = [PY, "manage.py", "qcluster"]
    return Service(f"{system}-{setup.key}-{count}w", command, env_for(setup, system=system, workers=count, **extra))


def gunicorn(setup: Setup, *, port: int) -> Service:
    """The web server as `make run` starts it (2 workers x 4 threads), production settings."""
    command = [PY, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
               "--threads", "4"]  # fmt: skip
    return Service(f"gunicorn-{setup.key}", command, env_for(setup))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
