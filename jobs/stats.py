"""Counts that describe the job system as a whole, for `jobs_stats`, the dashboard and `simulate`.

`job_stats` costs three aggregate queries whatever the table's size, never a row per job in Python.
The active jobs and the last hour's are read through partial and (status, finished_at) indexes; the
all-time count by status is a full scan on PostgreSQL (about 100 ms at 1,000,000 jobs, measured)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from jobs.models import Job

WINDOWS = {"last_minute": timedelta(minutes=1), "last_hour": timedelta(hours=1)}


def job_stats(*, now: datetime | None = None) -> dict:
    """Counts by status; per queue: queued (due and delayed), running, stale and the age of the oldest
    due job; and jobs finished in the last minute and hour, by outcome and per second."""
    now = now or timezone.now()
    return {
        "generated_at": now,
        "status": _status_counts(),
        "queues": _queues(now),
        "throughput": _throughput(now),
    }


def _status_counts() -> dict[str, int]:
    # All time: grows with the table (see the module docstring); a window would keep it flat.
    counts = dict.fromkeys(Job.Status.values, 0)
    for row in Job.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


def _queues(now: datetime) -> list[dict]:
    """One row per queue, configured queues first. The age of a queue's oldest job counts from when it
    became due (run_after), so a job delayed on purpose does not look stuck."""
    stale_before = now - timedelta(seconds=settings.JOBS_STALE_SECONDS)
    queued, running = Q(status=Job.Status.QUEUED), Q(status=Job.Status.RUNNING)
    due = queued & Q(run_after__lte=now)
    rows = (
        Job.objects.active()
        .order_by()
        .values("queue")
        .annotate(
            queued=Count("id", filter=queued),
            due=Count("id", filter=due),
            running=Count("id", filter=running),
            stale=Count("id", filter=running & Q(heartbeat_at__lt=stale_before)),
            oldest_due=Min("run_after", filter=due),
        )
    )
    found = {row["queue"]: row for row in rows}
    queues = []
    for name in dict.fromkeys([*settings.JOBS_QUEUES, *sorted(found)]):
        row = found.get(name, {"queued": 0, "due": 0, "running": 0, "stale": 0, "oldest_due": None})
        oldest = row["oldest_due"]
        queues.append(
            {
                "queue": name,
                "queued": row["queued"],
                "due": row["due"],
                "delayed": row["queued"] - row["due"],
                "running": row["running"],
                "stale": row["stale"],
                "oldest_age_seconds": round((now - oldest).total_seconds(), 3) if oldest else None,
            }
        )
    return queues


def _throughput(now: datetime) -> dict[str, dict]:
    # status IN (finished) AND finished_at >= ...: a range scan of the (status, finished_at) index.
    windows = {name: Q(finished_at__gte=now - span) for name, span in WINDOWS.items()}
    rows = (
        Job.objects.filter(status__in=Job.FINISHED, finished_at__gte=now - max(WINDOWS.values()))
        .order_by()
        .values("status")
        .annotate(**{name: Count("id", filter=window) for name, window in windows.items()})
    )
    found = {row["status"]: row for row in rows}
    throughput = {}
    for name, span in WINDOWS.items():
        counts = {status.value: found.get(status.value, {}).get(name, 0) for status in Job.FINISHED}
        total = sum(counts.values())
        throughput[name] = {**counts, "total": total, "per_second": round(total / span.total_seconds(), 3)}
    return throughput


def job_status_counts(*, ids: Iterable[int]) -> dict[str, int]:
    """How many of the jobs `ids` are in each status (unknown ids are not counted)."""
    ids = list(ids)
    counts = dict.fromkeys(Job.Status.values, 0)
    for start in range(0, len(ids), 500):  # bounded IN lists, whatever the backend's parameter limit
        chunk = Job.objects.filter(pk__in=ids[start : start + 500]).order_by().values("status")
        for row in chunk.annotate(n=Count("id")):
            counts[row["status"]] += row["n"]
    return counts
