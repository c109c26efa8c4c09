"""What runs inside a `qcluster` worker (with the broker, the only module that talks to django-q2).

`run(job_id)` starts a job the broker reserved for this cluster (a job no longer ours is skipped),
calls the handler and records the outcome; it never raises, so django-q2 keeps no bookkeeping.

Each worker process also runs a `WorkerDaemon` thread that beats the heart of the job in hand and
stops it hard when a cancel or a timeout is ignored."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone
from django_q.exceptions import TimeoutException
from django_q.signals import post_spawn

from jobs import metrics, services
from jobs.broker import cluster_id, use_worker_connection
from jobs.context import JobContext
from jobs.exceptions import JobCancelled, PermanentJobError, UnknownHandler
from jobs.middleware import run_handler

logger = logging.getLogger(__name__)
T = TypeVar("T")

_cluster: str | None = None  # set in qcluster workers; None in web and test processes


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run(job_id: int) -> None:
    """Start and execute one job; every outcome is recorded on the Job row. Outside a cluster (tests,
    a shell) a due queued job is started directly."""
    job = _with_database(partial(services.job_start, job_id=job_id, cluster=_cluster, worker=worker_id()))
    if job is None:
        logger.info("job not startable: cancelled, expired, paused or requeued",
                    extra={"action": "job.skipped", "job_id": job_id})
        return
    extra = {"job_id": job.pk, "trace_id": job.trace_id, "handler": job.handler}
    if job.schedule_id is not None and not _fire(job):
        logger.info("firing not run: its schedule's catch-up or overlap policy",
                    extra={"action": "schedule.firing_skipped", **extra})
        return
    logger.info("job started", extra={"action": "job.started", **extra})
    metrics.job_started(job)
    began = time.monotonic()
    daemon = _worker_daemon if _worker_daemon and _worker_daemon.pid == os.getpid() else None
    if daemon:
        daemon.watch(job)
    try:
        with _timeout(job.timeout):
            result = run_handler(JobContext(job))  # the handler inside JOBS_MIDDLEWARE
        outcome = partial(services.job_succeed, job=job, result=result)
    except JobCancelled:
        outcome = partial(services.job_finish_cancelled, job=job, message="stopped at a cancellation check")
    except (PermanentJobError, UnknownHandler) as exc:
        outcome = partial(services.job_fail, job=job, error=_error(exc), permanent=True)
    except (JobTimeout, TimeoutException):
        timed_out = _error(JobTimeout(f"timed out after {job.timeout} s"), with_tb=False)
        outcome = partial(services.job_fail, job=job, error=timed_out)
    except Exception as exc:
        outcome = partial(services.job_fail, job=job, error=_error(exc))
    finally:
        if daemon:
            daemon.release()
    try:
        _with_database(outcome)
    except Exception as exc:  # the outcome itself cannot be stored (a result that is not JSON)
        _with_database(partial(services.job_fail, job=job, error=_error(exc)))
    outcome_name = OUTCOMES.get(job.status, "lost")
    metrics.job_ended(job, outcome=outcome_name, seconds=time.monotonic() - began)
    _log_outcome(job, outcome_name, extra)


def _fire(job) -> bool:
    """A schedule's firing: plant its next one and apply its catch-up and overlap policies (False: the
    job ended cancelled, not to run). A failure here must not lose the firing: the upkeep re-plants."""
    try:
        return _with_database(partial(services.schedule_fire, job=job)) is not False
    except Exception:
        logger.exception("schedule firing bookkeeping failed",
                         extra={"action": "schedule.fire_failed", "job_id": job.pk})  # fmt: skip
        return True


# The job's status once its attempt is recorded -> the outcome that logs and metrics name.
OUTCOMES = {"succeeded": "succeeded", "failed": "failed", "queued": "retry", "cancelled": "cancelled"}
_OUTCOME_LOGS = {
    "succeeded": (logging.INFO, "job succeeded"),
    "cancelled": (logging.INFO, "job cancelled"),
    "retry": (logging.WARNING, "job attempt %(attempt)s of %(max)s failed, retry scheduled: %(error)s"),
    "failed": (logging.ERROR, "job failed after attempt %(attempt)s of %(max)s: %(error)s"),
    "lost": (logging.WARNING, "job outcome not recorded: the job is no longer this worker's"),
}


def _log_outcome(job, outcome: str, extra: dict) -> None:
    level, message = _OUTCOME_LOGS[outcome]
    error = job.error or {}
    args = {"attempt": job.attempts, "max": job.max_attempts, "error": f"{error.get('type')}: {error.get('message')}"}
    logger.log(level, message, args, extra={"action": f"job.{outcome}", "status": job.status, **extra})


class JobTimeout(Exception):
    pass


def _with_database(write: Callable[[], T]) -> T | None:
    """Run `write`; while the database is unreachable, try again for JOBS_RECORD_RETRY_SECONDS, so a
    short outage does not lose a finished job's outcome (its job would be requeued by the stale sweep
    and run twice). Past that, give up: the sweep takes the job back."""
    deadline = time.monotonic() + settings.JOBS_RECORD_RETRY_SECONDS
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError):
            connection.close()
            if time.monotonic() >= deadline:
                logger.error("database unreachable; left to the stale sweep", extra={"action": "job.unrecorded"})
                return None
            time.sleep(RECORD_RETRY_INTERVAL)


RECORD_RETRY_INTERVAL = 0.5


class _timeout:
    """SIGALRM-based limit for one attempt (workers run jobs in their main thread)."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        self.active = threading.current_thread() is threading.main_thread()

    def _raise(self, signum, frame):
        raise JobTimeout()

    def __enter__(self):
        if self.active:
            self.previous = signal.signal(signal.SIGALRM, self._raise)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)


def _error(exc: BaseException, *, with_tb: bool = True) -> dict:
    message = str(exc) or type(exc).__name__
    tb = "".join(traceback.format_exception(exc)) if with_tb else ""
    return {"type": type(exc).__name__, "message": message[:2000], "traceback": tb[-20_000:]}


class WorkerDaemon(threading.Thread):
    """Per worker process: the heartbeat of the job in hand."""

    def __init__(self):
        super().__init__(name="jobs-daemon", daemon=True)
        self.job = None
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.last_beat = 0.0

    def watch(self, job) -> None:
        with self.lock:
            self.job = job
            self.last_beat = time.monotonic()

    def release(self) -> None:
        with self.lock:
            self.job = None

    def run(self) -> None:
        while True:
            self.wake.wait(min(0.5, settings.JOBS_HEARTBEAT_SECONDS))
            try:
                self.tick()
            except Exception:
                logger.exception("worker daemon tick failed", extra={"action": "daemon.error"})
                connection.close()
                time.sleep(1)

    def tick(self) -> None:
        with self.lock:
            job = self.job
        now = time.monotonic()
        if job is not None and now - self.last_beat >= settings.JOBS_HEARTBEAT_SECONDS:
            close_old_connections()
            self.last_beat = now
            self.beat(job)

    def beat(self, job) -> None:
        cancel_requested_at = services.job_heartbeat(job=job)
        if cancel_requested_at is False:
            return
        overdue = job.started_at and timezone.now() > job.started_at + timedelta(
            seconds=job.timeout + settings.JOBS_CANCEL_GRACE_SECONDS
        )
        ignored_cancel = cancel_requested_at and (timezone.now() - cancel_requested_at).total_seconds() > (
            settings.JOBS_CANCEL_GRACE_SECONDS
        )
        if ignored_cancel or overdue:
            self.kill(job, cancelled=bool(ignored_cancel))

    def kill(self, job, *, cancelled: bool) -> None:
        """The handler ignored its cancel or timeout: record the outcome, then end this process
        (django-q2's guard starts a fresh worker)."""
        if cancelled:
            services.job_finish_cancelled(job=job, message="stopped by force after the cancel grace period")
        else:
            services.job_fail(job=job, error=_error(JobTimeout(f"timed out after {job.timeout} s; worker stopped")))
        logger.error("worker stopped by force", extra={"action": "job.killed", "job_id": job.pk})
        os.kill(os.getpid(), signal.SIGKILL)


_worker_daemon: WorkerDaemon | None = None


def _on_worker_spawn(sender, proc_name, **kwargs) -> None:
    """Start the daemon in each new qcluster worker process (never in web or test processes)."""
    global _worker_daemon, _cluster
    _cluster = cluster_id()
    use_worker_connection()
    _worker_daemon = WorkerDaemon()
    _worker_daemon.pid = os.getpid()
    _worker_daemon.start()


post_spawn.connect(_on_worker_spawn, dispatch_uid="jobs.runner.worker_daemon")
