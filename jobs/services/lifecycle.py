"""The runner's side of a job's life: progress, heartbeat, and the outcome of an attempt.

Each write is guarded by `status=RUNNING` and the claiming worker and attempt, so a worker that was
given up for dead (and whose job was requeued and claimed elsewhere) cannot overwrite the record."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from jobs.models import Job, JobEvent
from jobs.registry import get_handler
from jobs.services.dependencies import job_dependants_settle

logger = logging.getLogger(__name__)


def _owned(job: Job):
    return Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, worker=job.worker, attempts=job.attempts)


def _end_attempt(job: Job, changes: dict, *, kind: str, message: str = "", now: datetime) -> bool:
    """Apply `changes` to the job while this worker still owns the attempt, and append the event:
    one statement on PostgreSQL (a data-modifying CTE), two in one transaction on SQLite. The UPDATE
    also returns `has_dependants`, so only a job that has some settles them (a third step)."""
    fields = {Job._meta.get_field(name): value for name, value in changes.items()}
    assignments = ", ".join(f"{field.column} = %s" for field in fields)
    values = [field.get_db_prep_save(value, connection) for field, value in fields.items()]
    update = f"""UPDATE {Job._meta.db_table} SET {assignments}
        WHERE id = %s AND status = 'running' AND worker = %s AND attempts = %s RETURNING id, has_dependants"""
    params = [*values, job.pk, job.worker, job.attempts]
    event = [connection.ops.adapt_datetimefield_value(now), kind, job.attempts, message]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""WITH ended AS ({update}), event AS (
                    INSERT INTO {JobEvent._meta.db_table} (job_id, at, kind, attempt, message)
                    SELECT id, %s, %s, %s, %s FROM ended)
                SELECT has_dependants FROM ended""",
                params + event,
            )
            row = cursor.fetchone()
            # The end is committed by now (outside a caller's transaction), so the settling reads it.
            if row and row[0]:
                job_dependants_settle(ended={job.pk: changes["status"]})
        else:
            with transaction.atomic():
                cursor.execute(update, params)
                row = cursor.fetchone()
                if row is not None:
                    JobEvent.objects.create(job=job, at=now, kind=kind, attempt=job.attempts, message=message)
                    if row[1]:
                        job_dependants_settle(ended={job.pk: changes["status"]})
    if row is None:
        return _lost(job)
    for name, value in changes.items():
        setattr(job, name, value)
    return True


def job_succeed(*, job: Job, result) -> bool:
    """RUNNING -> SUCCEEDED with its result. False when the worker no longer owns the job."""
    now = timezone.now()
    changes = dict(status=Job.Status.SUCCEEDED, result=result, error=None, finished_at=now)
    return _end_attempt(job, changes, kind=JobEvent.Kind.SUCCEEDED, now=now)


def job_fail(*, job: Job, error: dict, permanent: bool = False) -> bool:
    """End a RUNNING attempt with `error` ({type, message, traceback}): back to QUEUED after the
    handler's backoff while attempts remain, else FAILED. `permanent` skips the remaining attempts."""
    now = timezone.now()
    if permanent or job.attempts >= job.max_attempts:
        changes = dict(status=Job.Status.FAILED, error=error, worker="", finished_at=now)
        return _end_attempt(job, changes, kind=JobEvent.Kind.FAILED, message=error["message"], now=now)
    delay = _backoff(job)
    # The next attempt starts with no progress: the last one's would read as this one's.
    changes = dict(
        status=Job.Status.QUEUED, error=error, worker="", reserved_by="", progress={},
        run_after=now + timedelta(seconds=delay),
    )  # fmt: skip
    message = f"{error['message']} (retry in {delay:.1f} s)"
    return _end_attempt(job, changes, kind=JobEvent.Kind.RETRY_SCHEDULED, message=message, now=now)


def _backoff(job: Job) -> float:
    try:
        return max(0.0, get_handler(job.handler).backoff(job.attempts))
    except Exception:  # an unknown handler has no policy; retry soon
        return 1.0


def job_finish_cancelled(*, job: Job, message: str = "") -> bool:
    """RUNNING -> CANCELLED once the handler stopped at a cancellation check (or was stopped)."""
    now = timezone.now()
    changes = dict(status=Job.Status.CANCELLED, finished_at=now)
    return _end_attempt(job, changes, kind=JobEvent.Kind.CANCELLED, message=message, now=now)


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
