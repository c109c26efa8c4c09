"""The runner's side of a job's life: claim, progress, heartbeat, and the outcome of an attempt.

Each write is guarded by `status=RUNNING` and the claiming worker and attempt, so a worker that was
given up for dead (and whose job was requeued and claimed elsewhere) cannot overwrite the record."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from jobs.models import Job, JobEvent
from jobs.registry import get_handler

logger = logging.getLogger(__name__)


def job_claim(*, job_id: int, worker: str) -> Job | None:
    """Move a due QUEUED job to RUNNING and count the attempt; None when it is not ours to run
    (unknown, already claimed by another delivery, cancelled, finished, or not due yet)."""
    now = timezone.now()
    job = _claim(job_id, worker=worker, now=now)
    if job is not None:
        return job
    # Not claimable as it stands: find out why, since an early or limited job must be handed back.
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status != Job.Status.QUEUED:
        return None
    if job.run_after > now + EARLY_DELIVERY_SLACK:
        _release(job, run_after=job.run_after)  # delivered early: give it back to the pump
        return None
    if job.concurrency_key:
        return _claim_within_limit(job, worker=worker, now=now)
    return None  # queued, due and unlimited, yet not claimed: another delivery took it just now


EARLY_DELIVERY_SLACK = timedelta(seconds=1)

# One UPDATE ... RETURNING (PostgreSQL, and SQLite since 3.35): on the hot path of every job it
# replaces a SELECT, an ORM-compiled UPDATE and their round trips. A job under a concurrency limit
# is claimed only once its slot was checked (`slot_checked`).
_CLAIM_SQL = f"""
    UPDATE {Job._meta.db_table}
    SET status = %s, attempts = attempts + 1, started_at = %s, heartbeat_at = %s, finished_at = NULL, worker = %s
    WHERE id = %s AND status = %s AND run_after <= %s AND (concurrency_key IS NULL OR %s)
    RETURNING *"""


def _claim(job_id: int, *, worker: str, now: datetime, slot_checked: bool = False) -> Job | None:
    at = connection.ops.adapt_datetimefield_value(now)
    latest_run_after = connection.ops.adapt_datetimefield_value(now + EARLY_DELIVERY_SLACK)
    params = [Job.Status.RUNNING.value, at, at, worker, job_id, Job.Status.QUEUED.value, latest_run_after, slot_checked]
    return next(iter(Job.objects.raw(_CLAIM_SQL, params)), None)


@transaction.atomic
def _claim_within_limit(job: Job, *, worker: str, now: datetime) -> Job | None:
    if not _has_concurrency_slot(job):
        _release(job, run_after=now + timedelta(seconds=1))  # try again when a slot may be free
        return None
    return _claim(job.pk, worker=worker, now=now, slot_checked=True)


def _has_concurrency_slot(job: Job) -> bool:
    if connection.vendor == "postgresql":  # serialise claims of one key; SQLite's IMMEDIATE already does
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [job.concurrency_key])
    running = Job.objects.running().filter(concurrency_key=job.concurrency_key).count()
    return running < (job.concurrency_limit or 1)


def _release(job: Job, *, run_after: datetime) -> None:
    Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(dispatched_at=None, run_after=run_after)


def _owned(job: Job):
    return Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, worker=job.worker, attempts=job.attempts)


def _started_event(job: Job) -> JobEvent:
    return JobEvent(job=job, at=job.started_at, kind=JobEvent.Kind.STARTED, attempt=job.attempts, message=job.worker)


@transaction.atomic
def job_succeed(*, job: Job, result) -> bool:
    """RUNNING -> SUCCEEDED with its result. False when the worker no longer owns the job."""
    now = timezone.now()
    if not _owned(job).update(status=Job.Status.SUCCEEDED, result=result, error=None, finished_at=now):
        return _lost(job)
    # The attempt's start is written with its end: one write instead of two on the hot path.
    JobEvent.objects.bulk_create(
        [_started_event(job), JobEvent(job=job, at=now, kind=JobEvent.Kind.SUCCEEDED, attempt=job.attempts)]
    )
    job.status, job.result, job.finished_at = Job.Status.SUCCEEDED, result, now
    return True


@transaction.atomic
def job_fail(*, job: Job, error: dict, permanent: bool = False) -> bool:
    """End a RUNNING attempt with `error` ({type, message, traceback}): back to QUEUED after the
    handler's backoff while attempts remain, else FAILED. `permanent` skips the remaining attempts."""
    now = timezone.now()
    final = permanent or job.attempts >= job.max_attempts
    if final:
        changes = dict(status=Job.Status.FAILED, finished_at=now)
        event = JobEvent(job=job, at=now, kind=JobEvent.Kind.FAILED, attempt=job.attempts, message=error["message"])
    else:
        delay = _backoff(job)
        changes = dict(status=Job.Status.QUEUED, run_after=now + timedelta(seconds=delay), dispatched_at=None)
        event = JobEvent(
            job=job,
            at=now,
            kind=JobEvent.Kind.RETRY_SCHEDULED,
            attempt=job.attempts,
            message=f"{error['message']} (retry in {delay:.1f} s)",
        )
    if not _owned(job).update(error=error, worker="", **changes):
        return _lost(job)
    JobEvent.objects.bulk_create([_started_event(job), event])
    for field, value in changes.items():
        setattr(job, field, value)
    job.error = error
    return True


def _backoff(job: Job) -> float:
    try:
        return max(0.0, get_handler(job.handler).backoff(job.attempts))
    except Exception:  # an unknown handler has no policy; retry soon
        return 1.0


@transaction.atomic
def job_finish_cancelled(*, job: Job, message: str = "") -> bool:
    """RUNNING -> CANCELLED once the handler stopped at a cancellation check (or was stopped)."""
    now = timezone.now()
    if not _owned(job).update(status=Job.Status.CANCELLED, finished_at=now):
        return _lost(job)
    JobEvent.objects.bulk_create(
        [
            _started_event(job),
            JobEvent(job=job, at=now, kind=JobEvent.Kind.CANCELLED, attempt=job.attempts, message=message),
        ]
    )
    job.status, job.finished_at = Job.Status.CANCELLED, now
    return True


def _lost(job: Job) -> bool:
    logger.warning(
        "job no longer owned by this worker; outcome dropped",
        extra={"action": "job.ownership_lost", "job_id": job.pk, "trace_id": job.trace_id},
    )
    return False


def job_heartbeat(*, job: Job) -> datetime | None | bool:
    """Record that the worker is alive. Returns when a cancel was requested (None if not),
    or False when the worker no longer owns the job."""
    if not _owned(job).update(heartbeat_at=timezone.now()):
        return False
    return Job.objects.filter(pk=job.pk).values_list("cancel_requested_at", flat=True).first()


def job_report_progress(*, job: Job, done: int, total: int | None, message: str, rate: float | None) -> None:
    """Store the handler's progress on the row (also a heartbeat)."""
    progress = {"done": done, "total": total, "message": message}
    if rate is not None:
        progress["rate"] = round(rate, 1)
    _owned(job).update(progress=progress, heartbeat_at=timezone.now())
    job.progress = progress


def job_log(*, job: Job, message: str) -> None:
    """Append a line the handler logged to the job's history."""
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.LOG, attempt=job.attempts, message=message[:10_000])
