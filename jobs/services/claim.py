"""How work leaves the queue: a cluster reserves due jobs in one statement, then a worker starts one.

The reserve statement decides everything a worker taking work must respect, over every cluster on
every machine: priority (higher first, then run_after, then id), the order of the served queues
(weighted, chosen per claim by the broker), paused queues, deadlines, the cluster's own capacity,
and the limits: per concurrency key, per queue, and per handler starts in a rate window. A job held
back stays QUEUED.

Limits are counts of jobs in flight (RESERVED or RUNNING), and only a reserve raises them. On
PostgreSQL, reserves therefore take one transaction-level advisory lock first: the statement that
follows has a snapshot taken after every earlier reserve committed, so its counts are exact (a lock
taken inside the statement would come after its snapshot). SQLite's IMMEDIATE transactions already
serialise writers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from jobs.models import Job, JobEvent

JOB = Job._meta.db_table
QUEUE = "jobs_queue"
RESERVE_LOCK = 0x6A6F6273  # "jobs": the advisory lock key every reserve takes on PostgreSQL

IN_FLIGHT = "status IN ('reserved', 'running')"
LOCK_SQL = f"SELECT pg_advisory_xact_lock({RESERVE_LOCK})"
ASYNC_COMMIT_SQL = "set_config('synchronous_commit', 'off', true)"


@dataclass(frozen=True)
class RateLimit:
    handler: str
    limit: int  # starts
    seconds: float  # per window


def job_reserve(
    *, cluster: str, queues: list[str], capacity: int, rate_limits: list[RateLimit] = (), now: datetime | None = None
) -> list[tuple[int, int]]:
    """Reserve for `cluster` the next due jobs of `queues` (in that order of preference), up to
    `capacity` minus what the cluster already holds. Returns (job id, timeout) pairs, in order."""
    if not queues or capacity <= 0:
        return []
    now = now or timezone.now()
    sql, params = _reserve_sql(cluster=cluster, queues=queues, capacity=capacity, rate_limits=rate_limits, now=now)
    if connection.vendor == "postgresql":
        # One round trip, no BEGIN/COMMIT: statements in one simple query run as one implicit
        # transaction (in autocommit; inside a caller's transaction, in that one), each with its own
        # snapshot, so the reserve's is taken after the lock (Django's cursors bind client-side).
        # Its own commit does not wait for the WAL flush: a reservation lost in a server crash only
        # leaves the job queued, and the start that follows it commits synchronously, which flushes
        # the reservation before any handler runs. (A caller's transaction keeps its own setting.)
        lock = LOCK_SQL if connection.in_atomic_block else f"{LOCK_SQL}, {ASYNC_COMMIT_SQL}"
        with connection.cursor() as cursor:
            cursor.execute(f"{lock}; {sql}", params)
            cursor.nextset()
            rows = cursor.fetchall()
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    # RETURNING has no order: put the batch back in claim order.
    rows.sort(key=lambda r: (queues.index(r[0]), -r[1], str(r[2]), r[3]))
    return [(job_id, timeout) for _, _, _, job_id, timeout in rows]


def _reserve_sql(*, cluster, queues, capacity, rate_limits, now) -> tuple[str, dict]:
    at = connection.ops.adapt_datetimefield_value
    params = {"cluster": cluster, "capacity": capacity, "scan": 2 * capacity, "now": at(now)}
    served = []
    for i, name in enumerate(queues):
        params[f"q{i}"] = name
        served.append(f"(%(q{i})s, {i})")
    rates = []
    for i, rate in enumerate(rate_limits):
        params[f"rh{i}"], params[f"rc{i}"] = rate.handler, at(now - timezone.timedelta(seconds=rate.seconds))
        rates.append(f"(%(rh{i})s, {int(rate.limit)}, %(rc{i})s)")
    rate_rows = f"VALUES {', '.join(rates)}" if rates else (
        "SELECT CAST(NULL AS text), CAST(NULL AS integer), CAST(NULL AS timestamp with time zone) WHERE 1 = 0"
    )
    due = f"""status = 'queued' AND run_after <= %(now)s AND (deadline IS NULL OR deadline > %(now)s)
          AND (concurrency_key IS NULL OR concurrency_limit > (
              SELECT count(*) FROM {JOB} f WHERE f.{IN_FLIGHT} AND f.concurrency_key = j.concurrency_key))
          AND j.handler NOT IN (SELECT handler FROM rate_used WHERE used >= lim)"""
    columns = "j.id, j.queue, j.handler, j.concurrency_key, j.concurrency_limit, j.priority, j.run_after"
    if connection.vendor == "postgresql":
        # One index probe per queue (the claim index matches the ORDER BY), rows locked as found.
        candidate = f"""SELECT c.*, served.ord FROM served CROSS JOIN LATERAL (
            SELECT {columns} FROM {JOB} j WHERE j.queue = served.name AND {due}
            ORDER BY j.priority DESC, j.run_after, j.id LIMIT %(scan)s FOR UPDATE SKIP LOCKED) c"""
    else:
        candidate = f"""SELECT {columns}, served.ord FROM {JOB} j JOIN served ON served.name = j.queue
            WHERE {due} ORDER BY served.ord, j.priority DESC, j.run_after, j.id LIMIT %(scan)s"""
    order = "c.ord, c.priority DESC, c.run_after, c.id"
    sql = f"""
    WITH queue_order(name, ord) AS (VALUES {', '.join(served)}),
    served AS (
        SELECT o.name, o.ord, s.concurrency_limit AS queue_limit,
               (SELECT count(*) FROM {JOB} f WHERE f.{IN_FLIGHT} AND f.queue = o.name) AS queue_in_flight
        FROM queue_order o LEFT JOIN {QUEUE} s ON s.name = o.name
        WHERE s.paused_at IS NULL
    ),
    rate(handler, lim, since) AS ({rate_rows}),
    rate_used AS (
        SELECT r.handler, r.lim, (SELECT count(*) FROM {JOB} f WHERE f.handler = r.handler
                                  AND f.reserved_at IS NOT NULL AND f.reserved_at > r.since) AS used
        FROM rate r
    ),
    candidate AS ({candidate}),
    ranked AS (
        SELECT c.*,
            row_number() OVER (PARTITION BY c.concurrency_key ORDER BY {order}) AS key_rank,
            row_number() OVER (PARTITION BY c.queue ORDER BY {order}) AS queue_rank,
            row_number() OVER (PARTITION BY c.handler ORDER BY {order}) AS handler_rank
        FROM candidate c
    ),
    admitted AS (
        SELECT c.id, c.ord, c.priority, c.run_after FROM ranked c
        JOIN served ON served.name = c.queue
        LEFT JOIN rate_used r ON r.handler = c.handler
        WHERE (c.concurrency_key IS NULL OR c.key_rank + (
                   SELECT count(*) FROM {JOB} f WHERE f.{IN_FLIGHT} AND f.concurrency_key = c.concurrency_key
               ) <= c.concurrency_limit)
          AND (served.queue_limit IS NULL OR c.queue_rank + served.queue_in_flight <= served.queue_limit)
          AND (r.handler IS NULL OR c.handler_rank + r.used <= r.lim)
        ORDER BY {order}
        LIMIT (SELECT CASE WHEN n > 0 THEN n ELSE 0 END FROM (
            SELECT %(capacity)s - count(*) AS n FROM {JOB} WHERE {IN_FLIGHT} AND reserved_by = %(cluster)s) room)
    )
    UPDATE {JOB} SET status = 'reserved', reserved_by = %(cluster)s, reserved_at = %(now)s
    WHERE id IN (SELECT id FROM admitted)
    RETURNING queue, priority, run_after, id, timeout"""
    return sql, params


def job_next_due(*, queues: list[str]) -> datetime | None:
    """When the earliest queued job of `queues` comes due (now or in the past if one is due)."""
    due = Job.objects.queued().filter(queue__in=queues).order_by("run_after")
    return due.values_list("run_after", flat=True).first()


def job_start(*, job_id: int, cluster: str | None, worker: str, now: datetime | None = None) -> Job | None:
    """RESERVED (by `cluster`) -> RUNNING, counting the attempt and writing its `started` event, in one
    statement on PostgreSQL. Without a cluster (a direct call, as in tests) a due QUEUED job starts.
    None when the job is not ours to run: cancelled, expired, requeued to another cluster, its queue
    paused since it was reserved (the upkeep releases it), or unknown."""
    now = now or timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    params = {"id": job_id, "cluster": cluster or "", "direct": cluster is None, "worker": worker, "now": at}
    update = f"""UPDATE {JOB} SET status = 'running', attempts = attempts + 1, started_at = %(now)s,
            heartbeat_at = %(now)s, finished_at = NULL, worker = %(worker)s
        WHERE id = %(id)s AND (deadline IS NULL OR deadline > %(now)s)
          AND NOT EXISTS (SELECT 1 FROM {QUEUE} p WHERE p.name = {JOB}.queue AND p.paused_at IS NOT NULL) AND (
            (status = 'reserved' AND reserved_by = %(cluster)s)
            OR (status = 'queued' AND %(direct)s AND run_after <= %(now)s))
        RETURNING *"""
    if connection.vendor == "postgresql":
        sql = f"""WITH started AS ({update}), event AS (
            INSERT INTO {JobEvent._meta.db_table} (job_id, at, kind, attempt, message)
            SELECT id, started_at, 'started', attempts, worker FROM started)
        SELECT * FROM started"""
        return next(iter(Job.objects.raw(sql, params)), None)
    with transaction.atomic():
        job = next(iter(Job.objects.raw(update, params)), None)
        if job is not None:
            JobEvent.objects.create(job=job, at=now, kind=JobEvent.Kind.STARTED, attempt=job.attempts, message=worker)
    return job
