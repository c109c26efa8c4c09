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
from jobs.services.dependencies import (
    FIELD,
    MAX_DEPENDENCIES,
    dependency_error,
    dependency_ids,
    dependency_link,
    dependency_lock,
    dependency_order,
    dependency_outcome,
    UnknownDependencies,
)
from jobs.services.enqueue import JOB_FIELDS, job_build, job_insert_sql, job_row_params
from jobs.services.wakeup import notify_queues
from jobs.tracing import new_trace_id

logger = logging.getLogger(__name__)


class DuplicateJobs(JobStateConflict):
    """Jobs of a batch whose unique key an active job, or another job of the batch, holds."""

    code = "duplicate"


def job_enqueue_many(*, jobs: list[dict], requested_by=None, trace_id: str | None = None) -> list[Job]:
    """Create every job of `jobs` (each the keyword arguments of `job_enqueue`) with one INSERT, or
    none. Raises, with errors per item under `jobs` -> index: PermissionDenied when any item's handler is
    not the user's to enqueue, InvalidJob for any other bad item, QuotaExceeded when all of them would
    pass the user's cap, DuplicateJobs when a unique key is taken. The jobs share one trace id.

    An item may name itself with `ref` and depend, in `depends_on`, on job ids and on other items' refs
    (before or after it): a cycle among them, or a ref to itself, is an InvalidJob naming the items."""
    trace_id = trace_id or new_trace_id()
    items = [dict(fields) for fields in jobs]
    plan = _BatchDependencies([(item.pop("ref", None), item.pop("depends_on", None) or []) for item in items])
    built, errors, denied = [], dict(plan.errors), False
    for index, fields in enumerate(items):
        try:
            built.append(job_build(**fields, requested_by=requested_by, trace_id=trace_id, quota=False))
        except DomainError as exc:
            errors[str(index)] = {**(exc.errors or {"non_field_errors": [str(exc)]}), **errors.get(str(index), {})}
            denied = denied or isinstance(exc, PermissionDenied)
    if errors:
        if denied:
            raise PermissionDenied("You may not enqueue some of these jobs.", errors={"jobs": errors})
        raise InvalidJob({"jobs": errors}, f"{len(errors)} of {len(jobs)} jobs are invalid; none was enqueued.")
    job_check_quota(user=requested_by, adding=len(built))
    _check_unique(built)
    if plan.links:
        with transaction.atomic():
            plan.insert(built, user=requested_by)
    elif built:
        _insert_many(built)
    notify_queues(sorted({job.queue for job in built if job.status == Job.Status.QUEUED}))
    logger.info("jobs enqueued", extra={"action": "job.enqueued_many", "count": len(built), "trace_id": trace_id})
    return built


class _BatchDependencies:
    """The `ref`s and `depends_on` of a batch's items: checked (unknown or repeated refs, cycles), then
    the jobs' first statuses and their links, written with the jobs."""

    def __init__(self, items: list[tuple[str | None, list]]):
        self.errors: dict[str, dict] = {}
        refs: dict[str, int] = {}
        for index, (ref, _) in enumerate(items):
            if ref is not None and ref in refs:
                self._error(index, "ref", f"Item {refs[ref]} of this batch has this ref already.")
            if ref is not None:
                refs.setdefault(ref, index)
        self.links: dict[int, list[tuple[str, int]]] = {}  # item -> ("id", job id) or ("item", index)
        for index, (_, values) in enumerate(items):
            if not isinstance(values, (list, tuple)) or not all(isinstance(v, (int, str)) for v in values):
                self._error(index, FIELD, "Give a list of job ids and refs of this batch's items.")
                continue
            values = list(dict.fromkeys(values))
            named = [v for v in values if isinstance(v, str)]
            try:
                ids = dependency_ids([v for v in values if not isinstance(v, str)])
            except InvalidJob as exc:
                self.errors.setdefault(str(index), {}).update(exc.errors)
                continue
            unknown = [ref for ref in named if ref not in refs]
            if unknown:
                self._error(index, FIELD, f"No item of this batch has ref {', '.join(map(repr, unknown))}.")
            elif index in {refs[ref] for ref in named}:
                self._error(index, FIELD, "A job cannot depend on itself.")
            elif len(values) > MAX_DEPENDENCIES:
                self._error(index, FIELD, f"A job may depend on at most {MAX_DEPENDENCIES} jobs.")
            elif values:
                self.links[index] = [("id", pk) for pk in ids] + [("item", refs[ref]) for ref in named]
        self.order, cycle = dependency_order({i: [at for kind, at in self.links.get(i, []) if kind == "item"]
                                              for i in range(len(items))})  # fmt: skip
        for index in cycle:
            message = f"Items {', '.join(map(str, cycle))} of this batch depend on each other in a cycle."
            self._error(index, FIELD, message)

    def _error(self, index: int, field: str, message: str) -> None:
        self.errors.setdefault(str(index), {}).setdefault(field, []).append(message)

    def insert(self, jobs: list[Job], *, user) -> None:
        external = sorted({pk for links in self.links.values() for kind, pk in links if kind == "id"})
        try:
            statuses = dependency_lock(ids=external, user=user)
        except UnknownDependencies as exc:
            raise InvalidJob({"jobs": {str(i): exc.errors for i, links in self.links.items()
                                       if any(kind == "id" and pk in exc.missing for kind, pk in links)}}) from None
        reasons: dict[int, tuple[str, int | None]] = {}  # item -> (why, or the cancelled item it follows)
        for index in self.order:  # an item's own dependencies first
            links = self.links.get(index)
            if not links:
                continue
            inner = [at for kind, at in links if kind == "item"]
            for at in inner:
                jobs[at].has_dependants = True
            status, why = dependency_outcome({pk: statuses[pk] for kind, pk in links if kind == "id"})
            dead = next((at for at in inner if jobs[at].status == Job.Status.CANCELLED), None)
            if why or dead is not None:
                jobs[index].status, jobs[index].finished_at = Job.Status.CANCELLED, jobs[index].created_at
                reasons[index] = (why, dead)
            else:
                jobs[index].status = Job.Status.WAITING if inner else status
        _insert_many(jobs)
        cancelled = {}
        for index, (why, dead) in reasons.items():  # the rare case: the reason names the ids just given
            job = jobs[index]
            cancelled[job] = why or f"dependency #{jobs[dead].pk} cancelled"
            job.error = dependency_error(cancelled[job])
            Job.objects.filter(pk=job.pk).update(error=job.error)
        pairs = [(jobs[i], at if kind == "id" else jobs[at].pk) for i, links in self.links.items() for kind, at in links]
        dependency_link(links=pairs, cancelled=cancelled, now=jobs[0].created_at)


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
