"""Reads for the operator dashboard beside `jobs.stats.job_stats` (counts and queues): what runs now, the chart of
jobs finished per minute, the jobs waiting for their time, and the latest failures. Each is one
query, the chart and failures over the (status, finished_at) index, so the page stays fast with
millions of jobs (see the query budgets in tests/console)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import timezone

from jobs.models import Job

CHART_MINUTES = 60


@dataclass(frozen=True)
class MinuteCount:
    minute: datetime
    succeeded: int
    failed: int


def finished_per_minute(*, now: datetime | None = None) -> list[MinuteCount]:
    """Succeeded and failed jobs per minute over the last hour, oldest first, empty minutes
    included. One grouped query over the (status, finished_at) index."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=CHART_MINUTES - 1)
    rows = (
        Job.objects.filter(status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED], finished_at__gte=start)
        .order_by()
        .annotate(minute=TruncMinute("finished_at"))
        .values_list("minute", "status")
        .annotate(n=Count("id"))
    )
    counts = {(minute, status): n for minute, status, n in rows}
    minutes = [start + timedelta(minutes=i) for i in range(CHART_MINUTES)]
    return [
        MinuteCount(m, counts.get((m, Job.Status.SUCCEEDED), 0), counts.get((m, Job.Status.FAILED), 0))
        for m in minutes
    ]


def next_waiting(*, limit: int = 10, now: datetime | None = None) -> list[Job]:
    """Queued jobs that are not due yet (delayed on purpose, or waiting out a retry's backoff),
    soonest first. Queued jobs are few next to finished ones: a short scan of the queued rows."""
    return list(
        Job.objects.filter(status=Job.Status.QUEUED, run_after__gt=now or timezone.now())
        .order_by("run_after", "id")
        .only("id", "handler", "queue", "status", "run_after", "attempts", "max_attempts", "error")[:limit]
    )


def latest_failures(*, limit: int = 10) -> list[Job]:
    """The most recently failed jobs, newest first."""
    return list(
        Job.objects.filter(status=Job.Status.FAILED)
        .order_by("-finished_at", "-id")
        .only(
            "id", "handler", "queue", "status", "error", "finished_at", "attempts", "max_attempts", "requested_by_id"
        )[:limit]
    )


@dataclass(frozen=True)
class RunningJob:
    job: Job
    elapsed: timedelta | None
    heartbeat_age: timedelta | None
    stale: bool


def running_now(*, limit: int = 20, now: datetime | None = None) -> list[RunningJob]:
    """Running jobs, longest running first, with how long since their worker's last heartbeat. One
    query over the partial index of running jobs."""
    now = now or timezone.now()
    stale_after = timedelta(seconds=settings.JOBS_STALE_SECONDS)
    jobs = (
        Job.objects.running()
        .order_by("started_at", "id")
        .only("id", "handler", "queue", "status", "worker", "started_at", "heartbeat_at", "progress", "attempts",
              "max_attempts")[:limit]
    )  # fmt: skip
    return [
        RunningJob(
            job=job,
            elapsed=now - job.started_at if job.started_at else None,
            heartbeat_age=now - job.heartbeat_at if job.heartbeat_at else None,
            stale=bool(job.heartbeat_at and now - job.heartbeat_at > stale_after),
        )
        for job in jobs
    ]
