from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from jobs import metrics
from jobs.admission import job_admit
from jobs.exceptions import DuplicateJob, InvalidJob
from jobs.middleware import enqueue_through
from jobs.models import Job
from jobs.registry import get_handler
from jobs.services.dependencies import dependency_ids, dependency_link, dependency_lock, dependency_start
from jobs.services.wakeup import NOTIFY_SQL, notify_due
from jobs.tracing import new_trace_id

logger = logging.getLogger(__name__)


def job_enqueue(*, handler: str, depends_on: list[int] | None = None, **options) -> Job:
    """Create a QUEUED job: one INSERT (with the NOTIFY that wakes idle clusters on PostgreSQL) in the
    caller's transaction, so a rolled-back enqueue never runs. The row is the queue: no broker hand-off.
    The options are `job_build`'s: args, requested_by, queue, priority, max_attempts, timeout, run_after
    or delay, unique_key, trace_id, deadline.

    Raises UnknownHandler, PermissionDenied, QuotaExceeded, InvalidJob (field errors) or DuplicateJob
    (an active job holds `unique_key`, given or derived from the arguments of a `unique_by_args`
    handler). A job not started by `deadline` (or the handler's default) ends EXPIRED without running.

    With `depends_on` (ids of jobs the requester may see, else InvalidJob) the job starts WAITING until
    they all succeeded, QUEUED if they already have, or CANCELLED if one already failed, was cancelled
    or expired (jobs.services.dependencies)."""
    job = job_build(handler=handler, **options)
    if depends_on:
        _insert_waiting(job, ids=dependency_ids(depends_on), user=options.get("requested_by"))
    else:
        enqueue_through(job, _insert)  # JOBS_ENQUEUE_MIDDLEWARE around the insert
    transaction.on_commit(partial(metrics.job_enqueued, handler=job.handler, queue=job.queue))
    logger.info(
        "job enqueued",
        extra={"action": "job.enqueued", "job_id": job.pk, "trace_id": job.trace_id, "handler": job.handler},
    )
    return job


@transaction.atomic
def _insert_waiting(job: Job, *, ids: list[int], user) -> None:
    reason = dependency_start(job, statuses=dependency_lock(ids=ids, user=user), now=job.created_at)
    enqueue_through(job, _insert)
    dependency_link(links=[(job, up) for up in ids], cancelled={job: reason} if reason else {}, now=job.created_at)


def job_build(
    *,
    handler: str,
    args: dict | None = None,
    requested_by=None,
    queue: str | None = None,
    priority: int | None = None,
    max_attempts: int | None = None,
    timeout: int | None = None,
    run_after: datetime | None = None,
    delay: float | None = None,
    unique_key: str | None = None,
    trace_id: str | None = None,
    deadline: datetime | None = None,
    quota: bool = True,
    schedule=None,
    scheduled_for: datetime | None = None,
) -> Job:
    """The unsaved Job that `job_enqueue` would insert, after every check but the unique key's: raises
    as `job_enqueue` does. A batch builds each of its jobs with `quota=False`, then checks the quota once."""
    spec = get_handler(handler)
    job_admit(spec=spec, user=requested_by, run_after=run_after, delay=delay, quota=quota)  # 403, 400, 429
    args = spec.clean_args(args if args is not None else {})
    _check_json(args)
    now = timezone.now()
    job = Job(
        handler=spec.name,
        args=args,
        queue=queue or spec.queue or settings.JOBS_QUEUES[0],
        priority=priority if priority is not None else spec.priority,
        max_attempts=max_attempts or spec.max_attempts or settings.JOBS_DEFAULT_MAX_ATTEMPTS,
        timeout=timeout or spec.timeout or settings.JOBS_DEFAULT_TIMEOUT,
        run_after=run_after or now + timedelta(seconds=delay or 0),
        deadline=deadline,
        unique_key=unique_key or spec.args_unique_key(args),
        requested_by=requested_by if requested_by and requested_by.is_authenticated else None,
        trace_id=trace_id or new_trace_id(),
        created_at=now,
        schedule=schedule,  # a firing of it (jobs.services.schedule_firing)
        scheduled_for=scheduled_for,
    )
    if job.deadline is None and spec.deadline:  # the handler's default counts from when the job is due
        job.deadline = job.run_after + timedelta(seconds=spec.deadline)
    _check_options(job)
    if spec.concurrency_limit:
        job.concurrency_key = f"{spec.name}:{spec.concurrency_key(args) if spec.concurrency_key else ''}"
        job.concurrency_limit = spec.concurrency_limit
    return job


def _insert(job: Job) -> None:
    if not job.unique_key:  # nothing else can clash: the checks ran already
        _insert_row(job)
        return
    try:
        with transaction.atomic():  # a savepoint: a unique-key clash must not poison the caller's transaction
            _insert_row(job)
    except IntegrityError:
        existing = Job.objects.active().filter(unique_key=job.unique_key).values_list("pk", flat=True).first()
        if existing:
            raise DuplicateJob(
                f"Job #{existing} with unique key {job.unique_key!r} is still active.", existing_id=existing
            ) from None
        raise


JOB_FIELDS = _FIELDS = [field for field in Job._meta.concrete_fields if not field.primary_key]
_INSERT_HEAD = f"INSERT INTO {Job._meta.db_table} ({', '.join(field.column for field in _FIELDS)}) VALUES "
_ROW = f"({', '.join(['%s'] * len(_FIELDS))})"
_INSERT_SQL = f"{_INSERT_HEAD}{_ROW} RETURNING id"


def _insert_row(job: Job) -> None:
    """The enqueue's one statement. On PostgreSQL it also notifies the job's queue (debounced, see
    jobs.services.wakeup), which reaches listening clusters when the transaction commits."""
    params = job_row_params(job)
    sql = _INSERT_SQL
    if notify_due(job.queue):
        sql, params = f"WITH inserted AS ({_INSERT_SQL}) SELECT id, {NOTIFY_SQL} FROM inserted", [*params, job.queue]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        job.pk = cursor.fetchone()[0]
    job._state.adding, job._state.db = False, connection.alias


def job_row_params(job: Job, conn=None) -> list:
    """The values of `job`'s row, in the order of `job_insert_sql`'s columns (`conn`: the connection
    itself rather than its thread-local proxy, which costs a lookup per value)."""
    conn = conn or connections[DEFAULT_DB_ALIAS]
    values = [field.pre_save(job, True) for field in _FIELDS]
    # None is NULL for every column here (the JSON ones included: null=True), so it skips the preparing.
    return [None if value is None else field.get_db_prep_save(value, conn) for field, value in zip(_FIELDS, values)]


def job_insert_sql(rows: int, *, skip_conflicts: bool = False) -> str:
    """One INSERT of `rows` jobs, returning their ids in order; `skip_conflicts`: a row that would break
    a unique constraint is not inserted, and returns no id (a schedule's firing already planted)."""
    conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    return f"{_INSERT_HEAD}{', '.join([_ROW] * rows)}{conflict} RETURNING id"


def _check_json(args: dict) -> None:
    try:
        json.dumps(args, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidJob({"args": [f"Must be plain JSON: {exc}"]}) from None


def _check_options(job: Job) -> None:
    errors = {}
    if job.queue not in settings.JOBS_QUEUES:
        errors["queue"] = [f"Unknown queue {job.queue!r}; known: {', '.join(settings.JOBS_QUEUES)}."]
    if not 1 <= job.timeout <= settings.JOBS_MAX_TIMEOUT:
        errors["timeout"] = [f"Must be between 1 and {settings.JOBS_MAX_TIMEOUT} seconds."]
    if not 1 <= job.max_attempts <= 100:
        errors["max_attempts"] = ["Must be between 1 and 100."]
    if not -100 <= job.priority <= 100:
        errors["priority"] = ["Must be between -100 and 100."]
    if job.deadline is not None and job.deadline <= max(job.run_after, job.created_at):
        errors["deadline"] = ["Must be later than now and than run_after: the job could never start."]
    if errors:
        raise InvalidJob(errors)
