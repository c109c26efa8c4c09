"""Prometheus metrics: what `/metrics` answers (docs/OPERATIONS.md, "Metrics").

Two kinds. The state of the queue lives in the database, so it is read at scrape time by
`DatabaseCollector`: one grouped query over the active jobs (`queue_stats`, indexed) and one count
of live clusters; finished jobs are never counted. Events (jobs enqueued, started, finished; run
and wait times) are counted in each process that sees them; with PROMETHEUS_MULTIPROC_DIR set,
prometheus-client keeps them in files there and a scrape adds up every process's (gunicorn and
qcluster workers alike, on one machine). Unset, a scrape shows only the answering process's own."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

# Process-local events, on a registry of their own (the default one also holds process metrics,
# which mean nothing summed over processes).
EVENTS = CollectorRegistry(auto_describe=True)
_JOB = ["handler", "queue"]
ENQUEUED = Counter("jobs_enqueued", "Jobs enqueued (committed).", _JOB, registry=EVENTS)
STARTED = Counter("jobs_started", "Attempts started.", _JOB, registry=EVENTS)
FINISHED = Counter(
    "jobs_finished",
    "Attempts ended, by outcome: succeeded, failed (no attempt left), retry (another attempt scheduled), "
    "cancelled, or lost (the job was taken back from this worker).",
    [*_JOB, "outcome"],
    registry=EVENTS,
)
RETRIES = Counter("jobs_retries", "Failed attempts followed by another attempt.", _JOB, registry=EVENTS)
EXPIRED = Counter("jobs_expired", "Queued jobs that passed their deadline before starting.", registry=EVENTS)
REQUEUED = Counter("jobs_requeued_stale", "Running jobs taken back from dead workers.", registry=EVENTS)
_SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
DURATION = Histogram("jobs_run_duration_seconds", "Run time of an attempt.", _JOB, buckets=_SECONDS, registry=EVENTS)
WAIT = Histogram(
    "jobs_wait_seconds", "From when a job was due (created, or run_after) to its start.", _JOB, buckets=_SECONDS,
    registry=EVENTS,
)  # fmt: skip


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def job_enqueued(*, handler: str, queue: str) -> None:
    ENQUEUED.labels(handler, queue).inc()


def job_started(job) -> None:
    STARTED.labels(job.handler, job.queue).inc()
    if job.started_at and job.run_after:
        WAIT.labels(job.handler, job.queue).observe(max(0.0, (job.started_at - job.run_after).total_seconds()))


def job_ended(job, *, outcome: str, seconds: float) -> None:
    FINISHED.labels(job.handler, job.queue, outcome).inc()
    DURATION.labels(job.handler, job.queue).observe(seconds)
    if outcome == "retry":
        RETRIES.labels(job.handler, job.queue).inc()


class DatabaseCollector:
    """Gauges read from the database at scrape time. An unreachable database gives `jobs_database_up 0`
    and no other gauge, never an error."""

    def collect(self):
        up = GaugeMetricFamily("jobs_database_up", "1 when the database answered this scrape.")
        try:
            families = list(_database_families(timezone.now()))
        except Exception as exc:
            logger.warning("metrics: database unreadable: %s", exc, extra={"action": "metrics.db_unavailable"})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


_QUEUE_GAUGES = {
    "waiting": ("jobs_queue_waiting", "Jobs waiting for the jobs they depend on."),
    "due": ("jobs_queue_due", "Queued jobs whose time has come."),
    "delayed": ("jobs_queue_delayed", "Queued jobs waiting for their run_after (delays, retry backoffs)."),
    "reserved": ("jobs_reserved", "Jobs reserved by a cluster, waiting for a free worker."),
    "running": ("jobs_running", "Jobs running now."),
    "stale": ("jobs_stale", "Running jobs whose heartbeat is older than JOBS_STALE_SECONDS."),
}


def _database_families(now: datetime):
    from jobs.models import Cluster
    from jobs.stats import queue_stats

    queues = queue_stats(now=now)
    for key, (name, help_text) in _QUEUE_GAUGES.items():
        family = GaugeMetricFamily(name, help_text, labels=["queue"])
        for row in queues:
            family.add_metric([row["queue"]], row[key])
        yield family
    oldest = GaugeMetricFamily("jobs_oldest_due_age_seconds", "Age of the oldest due job (0: none).", labels=["queue"])
    paused = GaugeMetricFamily("jobs_queue_paused", "1 when the queue is paused.", labels=["queue"])
    for row in queues:
        oldest.add_metric([row["queue"]], row["oldest_age_seconds"] or 0)
        paused.add_metric([row["queue"]], 1 if row["paused"] else 0)
    yield oldest
    yield paused
    since = now - timedelta(seconds=settings.JOBS_STALE_SECONDS)
    alive = GaugeMetricFamily("jobs_clusters_alive", "Clusters seen within JOBS_STALE_SECONDS.")
    alive.add_metric([], Cluster.objects.filter(seen_at__gte=since).count())
    yield alive


def scrape() -> tuple[bytes, str]:
    """The text exposition: every process's events (or this one's) and the database's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(EVENTS)
    registry.register(DatabaseCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
