"""What the pump in every worker process does each tick: dispatch jobs whose time has come, and
bring back jobs that a dead worker or a lossy broker left behind. The database, not the broker,
decides what still has to run."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from jobs import runner
from jobs.models import Job, JobEvent

logger = logging.getLogger(__name__)


def job_dispatch_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Hand every due, undispatched QUEUED job (delayed runs, retry backoff, released jobs) to the
    broker, highest priority first. Safe to run from many processes at once."""
    now = now or timezone.now()
    due = Job.objects.due_for_dispatch(now=now)
    if not due.exists():  # the common idle case: one indexed read, no write lock taken
        return 0
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        jobs = _within_concurrency_limits(list(due.only(*DISPATCH_FIELDS)[:limit]))
        Job.objects.filter(pk__in=[job.pk for job in jobs], dispatched_at__isnull=True).update(dispatched_at=now)
        for job in jobs:
            transaction.on_commit(partial(runner.dispatch, job))
    return len(jobs)


DISPATCH_FIELDS = ("id", "queue", "timeout", "concurrency_key", "concurrency_limit")


def _within_concurrency_limits(jobs: list[Job]) -> list[Job]:
    """Drop the jobs whose concurrency key has no free slot: jobs running or already handed to a
    broker hold one. Waiting jobs then cost nothing until a slot frees, instead of a claim a second."""
    keys = {job.concurrency_key for job in jobs if job.concurrency_key}
    if not keys:
        return jobs
    busy = Counter(
        Job.objects.filter(concurrency_key__in=keys)
        .filter(Q(status=Job.Status.RUNNING) | Q(status=Job.Status.QUEUED, dispatched_at__isnull=False))
        .values_list("concurrency_key", flat=True)
    )
    allowed = []
    for job in jobs:
        if job.concurrency_key and busy[job.concurrency_key] >= (job.concurrency_limit or 1):
            continue
        busy[job.concurrency_key] += 1
        allowed.append(job)
    return allowed


def job_requeue_stale(*, now: datetime | None = None, limit: int = 100) -> int:
    """RUNNING jobs whose heartbeat stopped (their worker died): QUEUED again while attempts remain
    (the lost attempt was counted at claim), FAILED when none remain, CANCELLED if a cancel was asked."""
    now = now or timezone.now()
    stale = Job.objects.stale(older_than=now - timedelta(seconds=settings.JOBS_STALE_SECONDS))
    recovered = 0
    for job in stale[:limit]:
        recovered += _recover(job, now=now)
    return recovered


@transaction.atomic
def _recover(job: Job, *, now: datetime) -> int:
    timed_out = job.started_at and now > job.started_at + timedelta(seconds=job.timeout)
    why = (
        f"timed out after {job.timeout} s and its worker {job.worker} was stopped"
        if timed_out
        else f"worker {job.worker} stopped answering (last heartbeat {job.heartbeat_at:%H:%M:%S})"
    )
    error = {"type": "JobTimeout" if timed_out else "WorkerLost", "message": why, "traceback": ""}
    if job.cancel_requested_at:
        status, kind, changes = Job.Status.CANCELLED, JobEvent.Kind.CANCELLED, {"finished_at": now}
    elif job.attempts >= job.max_attempts:
        status, kind, changes = Job.Status.FAILED, JobEvent.Kind.FAILED, {"finished_at": now, "error": error}
    else:
        status, kind = Job.Status.QUEUED, JobEvent.Kind.REQUEUED
        changes = {"run_after": now, "dispatched_at": None, "error": error}
    if not Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, heartbeat_at=job.heartbeat_at).update(
        status=status, worker="", **changes
    ):
        return 0  # it beat after all, or another pump got there first
    JobEvent.objects.bulk_create(
        [
            JobEvent(job=job, at=job.started_at or now, kind=JobEvent.Kind.STARTED, attempt=job.attempts,
                     message=job.worker),
            JobEvent(job=job, at=now, kind=kind, attempt=job.attempts, message=why),
        ]
    )
    logger.warning(
        "stale job recovered",
        extra={"action": "job.recovered", "job_id": job.pk, "trace_id": job.trace_id, "status": status},
    )
    return 1


def job_release_undelivered(*, queue: str, now: datetime | None = None) -> int:
    """Give QUEUED jobs that were handed to `queue`'s broker long ago, and never claimed, back to the
    pump. Called only when that broker queue is empty, so they are not waiting in it: a worker that
    died after popping them (the Redis broker keeps no receipt) lost them. A copy that does arrive
    later finds the job claimed and does nothing."""
    now = now or timezone.now()
    before = now - timedelta(seconds=settings.JOBS_REDISPATCH_SECONDS)
    released = Job.objects.undelivered(dispatched_before=before).filter(queue=queue).update(dispatched_at=None)
    if released:
        logger.warning("undelivered jobs released", extra={"action": "job.released", "queue": queue, "count": released})
    return released
