"""Counts that describe the job system as a whole, for `jobs_stats`, the dashboard and `simulate`.

`job_stats` costs three small queries whatever the table's size, never a row per job in Python: active
jobs through the (status, created_at) index, finished ones only over the last hour through the
(status, finished_at) index, so its cost follows the work in flight and of the last hour, not the
finished jobs piling up."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from jobs.models import Job, Queue

WINDOWS = {"last_minute": timedelta(minutes=1), "last_hour": timedelta(hours=1)}


def job_stats(*, now: datetime | None = None) -> dict:
    """Counts by status (active jobs, and jobs finished in the last hour); per queue: queued (due and
    delayed), reserved, running, stale, the age of the oldest due job and its operator state; and jobs
    finished in the last minute and hour, by outcome and per second."""
    now = now or timezone.now()
    queues, throughput = queue_stats(now=now), _throughput(now)
    return {
        "generated_at": now,
        "status": _status_counts(queues, throughput["last_hour"]),
        "queues": queues,
        "throughput": throughput,
    }


def _status_counts(queues: list[dict], last_hour: dict) -> dict[str, int]:
    """Active jobs from the queues' counts, finished ones of the last hour: no query of its own."""
    counts = dict.fromkeys(Job.Status.values, 0)
    counts.update(
        waiting=sum(q["waiting"] for q in queues),
        queued=sum(q["queued"] for q in queues),
        reserved=sum(q["reserved"] for q in queues),
        running=sum(q["running"] for q in queues),
    )
    counts.update({status: last_hour[status] for status in Job.FINISHED})
    counts["total"] = sum(counts.values())
    return counts


def queue_stats(*, now: datetime | None = None) -> list[dict]:
    """One row per queue, configured queues first. The age of a queue's oldest job counts from when it
    became due (run_after), so a job delayed on purpose does not look stuck."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.JOBS_STALE_SECONDS)
    queued, running = Q(status=Job.Status.QUEUED), Q(status=Job.Status.RUNNING)
    states = {queue.name: queue for queue in Queue.objects.select_related("paused_by")}
    due = queued & Q(run_after__lte=now)
    rows = (
        Job.objects.active()
        .order_by()
        .values("queue")
        .annotate(
            waiting=Count("id", filter=Q(status=Job.Status.WAITING)),
            queued=Count("id", filter=queued),
            due=Count("id", filter=due),
            reserved=Count("id", filter=Q(status=Job.Status.RESERVED)),
            running=Count("id", filter=running),
            stale=Count("id", filter=running & Q(heartbeat_at__lt=stale_before)),
            oldest_due=Min("run_after", filter=due),
        )
    )
    found = {row["queue"]: row for row in rows}
    queues = []
    for name in dict.fromkeys([*settings.JOBS_QUEUES, *sorted(found)]):
        row = found.get(name, {**dict.fromkeys(("waiting", "queued", "due", "reserved", "running", "stale"), 0),
                               "oldest_due": None})
        oldest, state = row["oldest_due"], states.get(name) or Queue(name=name)
        queues.append(
            {
                "queue": name,
                "waiting": row["waiting"],
                "queued": row["queued"],
                "due": row["due"],
                "delayed": row["queued"] - row["due"],
                "reserved": row["reserved"],
                "running": row["running"],
                "stale": row["stale"],
                "oldest_age_seconds": round((now - oldest).total_seconds(), 3) if oldest else None,
                "weight": settings.JOBS_QUEUE_WEIGHTS.get(name, 1),
                "paused": state.is_paused,
                "paused_at": state.paused_at,
                "paused_by": state.paused_by.username if state.paused_by else None,
                "concurrency_limit": state.concurrency_limit,
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
