"""The django-q2 broker whose queue is the `jobs_job` table (with the runner, the only module that
talks to django-q2).

django-q2 stays the executor: its sentinel, worker processes, monitor, timeouts and recycling run
as they always do. Its pusher calls `JobTableBroker.dequeue()`, which reserves due jobs for this
cluster in one statement (`services.job_reserve`: priority, queue weights, pauses, limits,
deadlines) and hands django-q2 signed packages that carry only the job id. When nothing is due it
waits: on PostgreSQL for a NOTIFY from an enqueue (LISTEN on a connection of its own), on SQLite by
polling a cheap indexed read, and never past the next delayed job's time.

Each pusher also runs a thread that reports the cluster alive and does the upkeep every cluster
shares: requeue jobs of dead workers, release jobs reserved by dead clusters, expire overdue jobs,
re-plant schedules left without their next firing (jobs.services.schedule_firing)."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from datetime import timedelta

import psycopg
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone
from django_q.brokers import Broker
from django_q.conf import Conf
from django_q.signing import SignedPackage

from jobs import services
from jobs.models import Cluster, Job
from jobs.registry import all_handlers
from jobs.services.wakeup import CHANNEL, SETTLE_SECONDS

logger = logging.getLogger(__name__)

RUN = "jobs.runner.run"
# How far back the upkeep looks for ended jobs whose dependants a dying worker left waiting (its gap is
# milliseconds; `jobs_recover` looks at every waiting job).
RECOVER_WINDOW = timedelta(hours=1)


def cluster_id() -> str:
    """This qcluster's id, the same in its pusher and its workers: host and the sentinel's pid."""
    return f"{socket.gethostname()}:{os.getppid()}"


def use_worker_connection() -> None:
    """No health check on this process's connection (a cluster's pusher and workers): django-q2 calls
    close_old_connections() before every task, and the pusher before it idles, which would make it a
    SELECT 1 per job or per wake-up. A broken connection is caught where it is used instead (the
    runner's `_with_database`, the pusher's retried reserve). Takes effect from the next connection."""
    connection.settings_dict["CONN_HEALTH_CHECKS"] = False
    connection.close()


def queue_order(weights: dict[str, int], *, strict: bool) -> list[str]:
    """The served queues in the order this claim prefers them. Weighted (asynq's way): each queue
    comes first with probability weight / sum, so none with work starves. Strict: by weight."""
    if strict:
        return sorted(weights, key=lambda name: -weights[name])
    tickets = [name for name, weight in weights.items() for _ in range(max(1, weight))]
    random.shuffle(tickets)
    return list(dict.fromkeys(tickets))


class JobTableBroker(Broker):
    def __init__(self, list_key: str | None = None):
        super().__init__(list_key)
        self._pid = None  # per-process state is made lazily: the sentinel's instance is inherited by fork

    def get_connection(self, list_key: str | None = None):
        return None  # Django's connection is the broker's

    # --- the pusher's side ------------------------------------------------------------------
    def dequeue(self):
        if self._pid != os.getpid():
            self._start_in_this_process()
        try:
            if connection.vendor == "postgresql" or self._any_due():
                batch = self._reserve()
                if batch:
                    return [(job_id, self._package(job_id, timeout)) for job_id, timeout in batch]
            close_old_connections()  # CONN_MAX_AGE, before idling rather than between a wake-up and its reserve
            self._wait()
        except DatabaseError:
            # The database went away: drop the connection (the next call reconnects) and wait a
            # little, rather than let the pusher die and be respawned 10 s later.
            logger.warning("database unavailable; pusher waits", extra={"action": "broker.db_unavailable"})
            connection.close()
            time.sleep(settings.JOBS_HEARTBEAT_SECONDS)
        return None

    def _reserve(self) -> list[tuple[int, int]]:
        def reserve():
            return services.job_reserve(
                cluster=self.cluster, queues=self._queues(), capacity=self._capacity(), rate_limits=self._rate_limits
            )

        try:
            return reserve()
        except (InterfaceError, OperationalError):
            # The connection died while idle (no health check: use_worker_connection): once more.
            connection.close()
            return reserve()

    def _start_in_this_process(self) -> None:
        self._pid = os.getpid()
        use_worker_connection()
        self.cluster = cluster_id()
        self.started = time.monotonic()
        self.weights = {q: settings.JOBS_QUEUE_WEIGHTS.get(q, 1) for q in settings.JOBS_SERVE_QUEUES}
        self._rate_limits = [
            services.RateLimit(handler=spec.name, limit=spec.rate_limit[0], seconds=spec.rate_limit[1])
            for spec in all_handlers()
            if spec.rate_limit
        ]
        self._listener = None
        self._notified_at = 0.0
        _Upkeep(self.cluster, queues=list(self.weights)).start()

    def _queues(self) -> list[str]:
        return queue_order(self.weights, strict=settings.JOBS_STRICT_QUEUES)

    def _capacity(self) -> int:
        """Workers + prefetch (+1 in the pusher's hand), reached gradually over the on-ramp."""
        full = settings.JOBS_WORKERS + settings.JOBS_PREFETCH + 1
        if self._ramping():
            elapsed = time.monotonic() - self.started
            return max(1, int(full * elapsed / settings.JOBS_ONRAMP_SECONDS))
        return full

    def _ramping(self) -> bool:
        return time.monotonic() - self.started < settings.JOBS_ONRAMP_SECONDS

    def _any_due(self) -> bool:
        return Job.objects.queued().filter(queue__in=self.weights, run_after__lte=timezone.now()).exists()

    def _wait(self) -> None:
        """Until work may be due: a NOTIFY, the poll interval on SQLite, or the next delayed job.
        Just after a notification, only a moment: enqueues debounced into it may still commit."""
        if time.monotonic() - self._notified_at < SETTLE_SECONDS:
            time.sleep(0.002)
            return
        if connection.vendor != "postgresql" or self._ramping():
            time.sleep(settings.JOBS_POLL_SECONDS)
            return
        timeout = settings.JOBS_LISTEN_SECONDS
        next_due = services.job_next_due(queues=list(self.weights))
        if next_due is not None:
            timeout = min(timeout, max(0.0, (next_due - timezone.now()).total_seconds()))
        if timeout > 0:
            self._listen(timeout)

    def _listen(self, timeout: float) -> None:
        try:
            if self._listener is None:
                # Its own autocommit connection: notifications arrive only between transactions.
                params = connection.get_connection_params()
                params.pop("cursor_factory", None)
                params.pop("context", None)
                self._listener = psycopg.connect(**params, autocommit=True)
                self._listener.execute(f"LISTEN {CHANNEL}")
                return  # anything sent before LISTEN was missed: look at the table first
            for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                self._notified_at = time.monotonic()
        except psycopg.Error:
            logger.warning("listener lost; reconnecting", extra={"action": "broker.listen_failed"})
            self._listener = None
            time.sleep(min(timeout, 1.0))

    def _package(self, job_id: int, timeout: int) -> str:
        # Signed at reserve time, never stored: a key rotation strands nothing. django-q2's own
        # timeout stops a handler a few seconds after the runner's SIGALRM should have.
        return SignedPackage.dumps(
            {
                "id": uuid.uuid4().hex,
                "name": f"job-{job_id}",
                "func": RUN,
                "args": (job_id,),
                "kwargs": {},
                "started": timezone.now(),
                "timeout": int(timeout) + 5,
                "save": False,
                "ack_failure": True,
            }
        )

    def fail(self, task_id) -> None:
        """The package could not be read back (a changed key): the job goes back to the queue."""
        Job.objects.filter(pk=task_id, status=Job.Status.RESERVED).update(status=Job.Status.QUEUED, reserved_by="")

    def acknowledge(self, task_id) -> None:
        pass  # the runner records every outcome on the row

    def enqueue(self, task):
        raise NotImplementedError("The Job table is the queue: enqueue with jobs.services.job_enqueue().")

    # --- what django-q2's tools ask ---------------------------------------------------------
    def ping(self) -> bool:
        connection.ensure_connection()
        return True

    def info(self) -> str:
        return f"Job table ({connection.vendor})"

    def queue_size(self) -> int:
        return Job.objects.queued().filter(run_after__lte=timezone.now()).count()

    def lock_size(self) -> int:
        return Job.objects.filter(status=Job.Status.RESERVED).count()

    # Clusters report themselves in the `Cluster` table: django-q2's stats in the cache would be a
    # second write every half second per cluster.
    def set_stat(self, key: str, value: str, timeout: int) -> None:
        pass

    def get_stat(self, key: str):
        return None

    def get_stats(self, pattern: str):
        return []


class _Upkeep(threading.Thread):
    """In each pusher: report the cluster alive and sweep, every heartbeat."""

    def __init__(self, cluster: str, *, queues: list[str]):
        super().__init__(name="jobs-upkeep", daemon=True)
        self.cluster, self.queues = cluster, queues
        self.started_at = timezone.now()
        self.builtins_ensured = False

    def run(self) -> None:
        while True:
            try:
                close_old_connections()
                self.tick()
            except Exception:
                logger.exception("cluster upkeep failed", extra={"action": "cluster.upkeep_failed"})
                connection.close()
            time.sleep(settings.JOBS_HEARTBEAT_SECONDS)

    def tick(self) -> None:
        host, _, pid = self.cluster.rpartition(":")
        services.cluster_report(
            cluster_id=self.cluster, host=host, pid=int(pid), workers=Conf.WORKERS, queues=self.queues,
            started_at=self.started_at,
        )  # fmt: skip
        services.job_requeue_stale()
        services.job_release_reserved()
        services.job_expire_overdue()
        services.job_dependants_recover(since=timezone.now() - RECOVER_WINDOW)
        services.cluster_forget_dead()
        if not self.builtins_ensured:  # once per cluster: they are data, changed only by a deploy
            services.schedule_ensure_builtins()
            self.builtins_ensured = True
        services.schedule_plant_missing()


def cluster_stats() -> list[dict]:
    """The clusters that reported within JOBS_STALE_SECONDS. Never raises: [] on error."""
    since = timezone.now() - timezone.timedelta(seconds=settings.JOBS_STALE_SECONDS)
    try:
        clusters = list(Cluster.objects.filter(seen_at__gte=since))
    except Exception:
        logger.exception("cluster stats unavailable", extra={"action": "cluster.stats_failed"})
        return []
    now = timezone.now()
    return [
        {
            "cluster_id": c.id,
            "host": c.host,
            "pid": c.pid,
            "workers": c.workers,
            "queues": c.queues,
            "uptime_seconds": (now - c.started_at).total_seconds(),
            "seen_at": c.seen_at,
        }
        for c in clusters
    ]
