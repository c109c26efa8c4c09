"""Many jobs in one call: each checked as `job_enqueue` checks one, then all written by one multi-row
INSERT in the caller's transaction, all or nothing."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction

from jobs.admission import job_check_quota
from jobs.exceptions import DomainError, InvalidJob, JobStateConflict, PermissionDenied
from jobs.models import Job
from jobs.services.enqueue import JOB_FIELDS, job_build, job_insert_sql, job_row_params
from jobs.services.wakeup import notify_queues
from jobs.tracing import new_trace_id

logger = logging.getLogger(__name__)


class DuplicateJobs(JobStateConflict):
    """Jobs of a batch whose unique key an active job, or another job of the batch, holds."""

    code = "duplicate"


def job_enqueue_many(*, jobs: list[dict], requested_by=None, trace_id: str | None = None) -> list[Job]:
    """Create every job of `jobs` (each the keyword arguments of `job_enqueue`) QUEUED with one INSERT, or
    none. Raises, with errors per item under `jobs` -> index: PermissionDenied when any item's handler is
    not the user's to enqueue, InvalidJob for any other bad item, QuotaExceeded when all of them would
    pass the user's cap, DuplicateJobs when a unique key is taken. The jobs share one trace id."""
    trace_id = trace_id or new_trace_id()
    built, errors, denied = [], {}, False
    for index, fields in enumerate(jobs):
        try:
            built.append(job_build(**fields, requested_by=requested_by, trace_id=trace_id, quota=False))
        except DomainError as exc:
            errors[str(index)] = exc.errors or {"non_field_errors": [str(exc)]}
            denied = denied or isinstance(exc, PermissionDenied)
    if errors:
        if denied:
            raise PermissionDenied("You may not enqueue some of these jobs.", errors={"jobs": errors})
        raise InvalidJob({"jobs": errors}, f"{len(errors)} of {len(jobs)} jobs are invalid; none was enqueued.")
    job_check_quota(user=requested_by, adding=len(built))
    _check_unique(built)
    if built:
        _insert_many(built)
        notify_queues(sorted({job.queue for job in built}))
    logger.info("jobs enqueued", extra={"action": "job.enqueued_many", "count": len(built), "trace_id": trace_id})
    return built


def _recordset_insert(jobs: list[Job], conn) -> tuple[str, list]:
    """PostgreSQL: the rows as one JSON parameter, `INSERT ... SELECT ... FROM jsonb_to_recordset(...)`.
    Still one multi-row INSERT, but its text is the same for any batch size (a VALUES list of 24,000
    placeholders costs more to build and parse than the rows do to insert)."""
    columns = ", ".join(field.column for field in JOB_FIELDS)
    types = ", ".join(f"{field.column} {field.db_type(conn)}" for field in JOB_FIELDS)
    sql = (f"INSERT INTO {Job._meta.db_table} ({columns}) SELECT {columns} "
           f"FROM jsonb_to_recordset(%s::jsonb) AS r({types}, n integer) ORDER BY n RETURNING id")  # fmt: skip
    rows = []
    for index, job in enumerate(jobs):
        row = {field.column: field.value_from_object(job) for field in JOB_FIELDS}
        rows.append({**{name: value for name, value in row.items() if value is not None}, "n": index})
    return sql, [json.dumps(rows, default=_json_default)]


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _check_unique(jobs: list[Job]) -> None:
    """Refuse unique keys held by an active job or given twice in the batch (the index has the last word)."""
    indexes = defaultdict(list)
    for index, job in enumerate(jobs):
        if job.unique_key:
            indexes[job.unique_key].append(index)
    if not indexes:
        return
    holders = dict(Job.objects.active().filter(unique_key__in=list(indexes)).values_list("unique_key", "pk"))
    errors = {}
    for key, where in indexes.items():
        for index in where:
            if key in holders:
                errors[str(index)] = {"unique_key": [f"Job #{holders[key]} with unique key {key!r} is still active."]}
            elif len(where) > 1:
                errors[str(index)] = {"unique_key": [f"Jobs {', '.join(map(str, where))} of this batch share it."]}
    if errors:
        raise DuplicateJobs("Some unique keys are taken; none was enqueued.", errors={"jobs": errors})


def _insert_many(jobs: list[Job]) -> None:
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor == "postgresql":
        sql, params = _recordset_insert(jobs, conn)
    else:
        sql, params = job_insert_sql(len(jobs)), [value for job in jobs for value in job_row_params(job, conn)]
    try:
        with transaction.atomic(), connection.cursor() as cursor:  # a savepoint, as for one job
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
    except IntegrityError:
        raise DuplicateJobs("An active job took one of these unique keys meanwhile; none was enqueued.") from None
    for job, pk in zip(jobs, ids, strict=True):
        job.pk = pk
        job._state.adding, job._state.db = False, connection.alias
