"""The only module that talks to django-q2.

`dispatch(job)` hands a job's id to the broker of its queue. `run(job_id)` executes inside a
`qcluster` worker: it claims the job (a duplicate delivery is a no-op), calls the handler and
records the outcome; it never raises, so django-q2 keeps no bookkeeping of its own.

Each worker process also runs a `WorkerDaemon` thread: it beats the heart of the job in hand
(and stops it hard when a cancel or a timeout is ignored), and runs the pump that dispatches due
jobs and recovers what dead workers left behind."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import traceback
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.exceptions import TimeoutException
from django_q.signals import post_spawn
from django_q.tasks import async_task

from jobs.exceptions import JobCancelled, PermanentJobError, UnknownHandler

logger = logging.getLogger(__name__)

RUN = "jobs.runner.run"


@cache
def _broker(queue: str):
    # One broker (and Redis client) per queue per process: django-q2 would build one per enqueue.
    return get_broker(queue)


def dispatch(job) -> None:
    """Send the job's id (never its data) to its queue. The runner enforces `job.timeout`; django-q2's
    own per-task timeout, a few seconds later, stops a handler that ignores it."""
    try:
        async_task(RUN, job.pk, cluster=job.queue, broker=_broker(job.queue), timeout=job.timeout + 5)
    except Exception:
        # The row stays QUEUED and dispatched: the pump's undelivered sweep sends it again.
        logger.exception("dispatch failed", extra={"action": "job.dispatch_failed", "job_id": job.pk})


def dispatch_is_transactional() -> bool:
    """True when the broker is django-q2's ORM broker on our default database: a dispatch inside a
    transaction then commits or rolls back with it."""
    return not settings.REDIS_URL and settings.Q_CLUSTER.get("orm") == DEFAULT_DB_ALIAS


def broker_queue_size(queue: str) -> int:
    return _broker(queue).queue_size()


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run(job_id: int) -> None:
    """Claim and execute one job; every outcome is recorded on the Job row."""
    from jobs import services
    from jobs.context import JobContext
    from jobs.registry import get_handler

    job = services.job_claim(job_id=job_id, worker=worker_id())
    if job is None:
        logger.info("delivery ignored: job not claimable", extra={"action": "job.skipped", "job_id": job_id})
        return
    extra = {"job_id": job.pk, "trace_id": job.trace_id, "handler": job.handler}
    logger.info("job started", extra={"action": "job.started", **extra})
    daemon = _worker_daemon if _worker_daemon and _worker_daemon.pid == os.getpid() else None
    if daemon:
        daemon.watch(job)
    try:
        spec = get_handler(job.handler)
        with _timeout(job.timeout):
            result = spec.func(JobContext(job), **job.args)
        services.job_succeed(job=job, result=result)
    except JobCancelled:
        services.job_finish_cancelled(job=job, message="stopped at a cancellation check")
    except (PermanentJobError, UnknownHandler) as exc:
        services.job_fail(job=job, error=_error(exc), permanent=True)
    except (JobTimeout, TimeoutException):
        services.job_fail(job=job, error=_error(JobTimeout(f"timed out after {job.timeout} s"), with_tb=False))
    except Exception as exc:
        services.job_fail(job=job, error=_error(exc))
    finally:
        if daemon:
            daemon.release()
    logger.info("job finished", extra={"action": "job.finished", "status": job.status, **extra})


class JobTimeout(Exception):
    pass


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
    """Per worker process: heartbeat of the job in hand, and the pump."""

    def __init__(self):
        super().__init__(name="jobs-daemon", daemon=True)
        self.job = None
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.last_beat = 0.0
        self.last_sweep = 0.0

    def watch(self, job) -> None:
        with self.lock:
            self.job = job
            self.last_beat = time.monotonic()

    def release(self) -> None:
        with self.lock:
            self.job = None

    def run(self) -> None:
        while True:
            self.wake.wait(settings.JOBS_PUMP_SECONDS)
            try:
                self.tick()
            except Exception:
                logger.exception("worker daemon tick failed", extra={"action": "daemon.error"})
                connection.close()
                time.sleep(1)

    def tick(self) -> None:
        from jobs import services

        close_old_connections()
        with self.lock:
            job = self.job
        now = time.monotonic()
        if job is not None and now - self.last_beat >= settings.JOBS_HEARTBEAT_SECONDS:
            self.last_beat = now
            self.beat(job)
        services.job_dispatch_due()
        if now - self.last_sweep >= max(settings.JOBS_HEARTBEAT_SECONDS, 1.0):
            self.last_sweep = now
            services.job_requeue_stale()
            for queue in settings.JOBS_QUEUES:
                if broker_queue_size(queue) == 0:
                    services.job_release_undelivered(queue=queue)

    def beat(self, job) -> None:
        from jobs import services

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
        from jobs import services

        if cancelled:
            services.job_finish_cancelled(job=job, message="stopped by force after the cancel grace period")
        else:
            services.job_fail(job=job, error=_error(JobTimeout(f"timed out after {job.timeout} s; worker stopped")))
        logger.error("worker stopped by force", extra={"action": "job.killed", "job_id": job.pk})
        os.kill(os.getpid(), signal.SIGKILL)


_worker_daemon: WorkerDaemon | None = None


def _on_worker_spawn(sender, proc_name, **kwargs) -> None:
    """Start the daemon in each new qcluster worker process (never in web or test processes)."""
    global _worker_daemon
    _worker_daemon = WorkerDaemon()
    _worker_daemon.pid = os.getpid()
    _worker_daemon.start()


post_spawn.connect(_on_worker_spawn, dispatch_uid="jobs.runner.worker_daemon")


def cluster_stats() -> list[dict]:
    """The qcluster processes alive now, from the stats django-q2 keeps in the shared cache (each
    cluster refreshes its entry every few seconds; a dead one expires). Never raises: [] on error."""
    from django_q.status import Stat

    try:
        stats = Stat.get_all(broker=_broker(settings.JOBS_QUEUES[0]))
    except Exception:
        logger.exception("cluster stats unavailable", extra={"action": "cluster.stats_failed"})
        return []
    now = timezone.now()
    return [
        {
            "cluster_id": str(stat.cluster_id),
            "host": stat.host,
            "pid": stat.pid,
            "status": stat.status,
            "workers": len(stat.workers),
            "reincarnations": stat.reincarnations,
            "uptime_seconds": (now - stat.tob).total_seconds() if stat.tob else None,
            "seen_at": stat.timestamp,
        }
        for stat in stats
    ]
