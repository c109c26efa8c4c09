"""Database cost of one no-op job over its whole life, counted query by query in-process.

The product: `job_enqueue` (what the API and every caller run), the broker's reserve
(`services.job_reserve`, exactly what `JobTableBroker.dequeue()` runs when jobs are due, for a batch
of `batch` jobs: its cost is shared by the batch), and `jobs.runner.run(job_id)` as a qcluster worker
runs it (for the cluster that reserved the job). The broker's acknowledge is a no-op. Bare django-q2: `async_task`, the delivery, and the monitor's `save_task` (its default
bookkeeping, with save_limit 250 rows already saved, which is its steady state).

Each query is classed by the table it touches (job layer, broker, django-q2 results, other) and by
kind (read, write, transaction control); rows written come from the cursor's rowcount."""

from __future__ import annotations

import contextlib
import re
from collections import Counter

from django.conf import settings
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)
READ = re.compile(r"^\s*SELECT\b", re.I)
TABLE = re.compile(r'(?:INTO|UPDATE|FROM)\s+"?(\w+)"?', re.I)
LAYERS = (("django_q_ormq", "broker"), ("pg_advisory_xact_lock", "broker"), ("django_q_task", "djq_results"),
          ("jobs_job", "job"))


def layer_of(sql: str) -> str:
    for table, layer in LAYERS:
        if table in sql:
            return layer
    if kind_of(sql) == "tx":
        return "tx"
    return "other"


WRITING_CTE = re.compile(r"^\s*WITH\b.*\b(INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b", re.I | re.S)


def kind_of(sql: str) -> str:
    if WRITE.match(sql) or WRITING_CTE.match(sql):
        return "write"
    return "read" if READ.match(sql) or sql.lstrip().upper().startswith("WITH") else "tx"


class Ledger:
    """Every query of the phases run under `record(phase)`, with rows written."""

    def __init__(self):
        self.queries: list[dict] = []
        self.health_checks = 0  # Django's CONN_HEALTH_CHECKS `SELECT 1`, which CaptureQueriesContext misses

    def record(self, phase: str):
        return _Recording(self, phase)

    def per_job(self, jobs: int) -> dict:
        counts: Counter = Counter()
        rows: Counter = Counter()
        health_checks = self.health_checks
        for q in self.queries:
            counts[(q["phase"], q["layer"], q["kind"])] += 1
            if q["kind"] == "write":
                rows[q["table"]] += max(q["rows"], 0)
        return {
            "jobs": jobs,
            "queries": [
                {"phase": p, "layer": layer, "kind": k, "per_job": n / jobs}
                for (p, layer, k), n in sorted(counts.items())
            ],
            "rows_written": {table: n / jobs for table, n in sorted(rows.items())},
            "examples": _examples(self.queries, jobs),
            "by_phase": {phase: n / jobs for phase, n in sorted(Counter(q["phase"] for q in self.queries).items())},
            "round_trips": sum(q.get("round_trip", True) for q in self.queries) / jobs,
            "health_checks": health_checks / jobs,
        }


class _Recording:
    def __init__(self, ledger: Ledger, phase: str):
        self.ledger, self.phase, self.rowcounts = ledger, phase, []
        self.capture = CaptureQueriesContext(connection)
        self.wrapper = None

    def _wrap(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        self.rowcounts.append((_verb(sql), context["cursor"].rowcount))
        return result

    def __enter__(self):
        self.capture.__enter__()
        self.wrapper = connection.execute_wrapper(self._wrap)
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self.wrapper.__exit__(*exc)
        self.capture.__exit__(*exc)
        pending = list(self.rowcounts)
        for query in self.capture.captured_queries:
            parts = _statements(query["sql"])
            for sql in parts[:-1]:  # the leading statements of a multi-statement round trip
                table = TABLE.search(sql)
                self.ledger.queries.append(
                    {"phase": self.phase, "sql": sql, "rows": 0, "layer": layer_of(sql), "kind": kind_of(sql),
                     "table": table.group(1) if table else "", "round_trip": False}
                )
            sql = parts[-1]
            rows = 0  # BEGIN and COMMIT are logged without passing through execute wrappers
            if pending and pending[0][0] == _verb(query["sql"]):
                rows = pending.pop(0)[1]
                if rows < 1 and _verb(sql) == "INSERT":  # SQLite counts RETURNING rows only once fetched
                    rows = sql.count("), (") + 1
            table = TABLE.search(sql)
            self.ledger.queries.append(
                {"phase": self.phase, "sql": sql, "rows": rows, "layer": layer_of(sql), "kind": kind_of(sql),
                 "table": table.group(1) if table else "", "round_trip": True}
            )


STATEMENT_START = re.compile(r";\s*(?=(?:SELECT|WITH|INSERT|UPDATE|DELETE)\b)", re.I)


def _statements(sql: str) -> list[str]:
    """The SQL statements of one round trip (the product sends its reserve lock and reserve together)."""
    return [part for part in STATEMENT_START.split(sql) if part.strip()] or [sql]


def _verb(sql: str) -> str:
    return sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""


def _examples(queries: list[dict], jobs: int) -> list[str]:
    """The distinct statements of a job's life, shortened, each with how many run per job."""
    counts: Counter = Counter()
    for q in queries:
        counts[(q["phase"], q["sql"][:60])] += 1
    seen, out = set(), []
    for q in queries:
        key = (q["phase"], q["sql"][:60])
        if key not in seen:
            seen.add(key)
            out.append(f"[{q['phase']}] x{counts[key] / jobs:.2f}/job  {' '.join(q['sql'].split())[:170]}")
    return out[:30]


def _delivered(broker, jobs: int) -> list[tuple]:
    from django_q.signing import SignedPackage

    tasks: list = []
    while len(tasks) < jobs:
        got = broker.dequeue() or []
        tasks += [(ack_id, SignedPackage.loads(payload)) for ack_id, payload in got]
    return tasks


def product_cost(*, jobs: int, batch: int) -> dict:
    from jobs import broker, runner, services
    from jobs.services import job_enqueue

    cluster = "bench-host:1"
    runner._cluster = cluster  # as in a qcluster worker of that cluster
    queues = list(settings.JOBS_SERVE_QUEUES)

    def life(ledger: Ledger | None) -> None:
        for _ in range(jobs if ledger else batch):
            with _maybe(ledger, "enqueue"):
                job_enqueue(handler="jobs.noop")
        left = jobs if ledger else batch
        while left > 0:
            with _maybe(ledger, "reserve"):
                reserved = services.job_reserve(cluster=cluster, queues=queues, capacity=batch)
            assert reserved, "nothing reserved"
            for job_id, _timeout in reserved:
                close_old_connections()  # as django-q2's worker does before each task
                with _maybe(ledger, "run"):
                    runner.run(job_id)
            left -= len(reserved)

    broker.use_worker_connection()  # as a qcluster's connections are set up
    life(None)  # warm-up: connections, prepared plans
    ledger = Ledger()
    with _counting_health_checks(ledger):
        life(ledger)
    result = ledger.per_job(jobs)
    result["batch"] = batch
    return result


@contextlib.contextmanager
def _counting_health_checks(ledger: Ledger):
    """Count the `SELECT 1` of Django's connection health checks (CONN_HEALTH_CHECKS), sent on the
    connection directly after each close_old_connections(), so CaptureQueriesContext never sees it."""
    original = connection.is_usable

    def is_usable():
        ledger.health_checks += 1
        return original()

    connection.is_usable = is_usable
    try:
        yield
    finally:
        del connection.is_usable


def _maybe(ledger: Ledger | None, phase: str):
    return ledger.record(phase) if ledger else contextlib.nullcontext()


def djq_cost(*, jobs: int) -> dict:
    from django_q.brokers import get_broker
    from django_q.models import Success, Task
    from django_q.monitor import save_task
    from django_q.tasks import async_task

    broker = get_broker()
    now = timezone.now()
    Task.objects.bulk_create(  # save_limit (250) successes already kept: each save now prunes one
        [Task(id=f"prefill{i:025d}", name=f"prefill-{i}", func="bench.tasks.noop", started=now, stopped=now,
              success=True, args=(), kwargs={}) for i in range(250)]
    )
    ledger = Ledger()
    for _ in range(jobs):
        with ledger.record("enqueue"):
            async_task("bench.tasks.noop")
    with ledger.record("deliver"):
        tasks = _delivered(broker, jobs)
    with _counting_health_checks(ledger):
        for ack_id, task in tasks:
            close_old_connections()  # as django-q2's worker does before each task
            task.update(result=None, success=True, stopped=timezone.now())  # what a worker adds after a no-op
            with ledger.record("bookkeeping"):
                save_task(task, broker)
            with ledger.record("ack"):
                broker.acknowledge(ack_id)
    result = ledger.per_job(jobs)
    result["success_rows_kept"] = Success.objects.count()
    return result


def idle_cost() -> dict:
    """Statements of one cluster's upkeep tick (every JOBS_HEARTBEAT_SECONDS, in the pusher) and of an
    idle pusher's wait: on PostgreSQL one `job_next_due` read per LISTEN wait (at most
    JOBS_LISTEN_SECONDS), on SQLite one indexed `exists` per JOBS_POLL_SECONDS."""
    from jobs import services
    from jobs.broker import _Upkeep

    upkeep = _Upkeep("bench-host:1", queues=list(settings.JOBS_SERVE_QUEUES))
    upkeep.tick()
    with CaptureQueriesContext(connection) as tick:
        upkeep.tick()
    wait_every = settings.JOBS_LISTEN_SECONDS if connection.vendor == "postgresql" else settings.JOBS_POLL_SECONDS
    heartbeat = settings.JOBS_HEARTBEAT_SECONDS
    with CaptureQueriesContext(connection) as wait:
        services.job_next_due(queues=list(settings.JOBS_SERVE_QUEUES))
    return {
        "upkeep_queries": len(tick), "upkeep_seconds": heartbeat, "wait_queries": len(wait), "wait_seconds": wait_every,
        "queries_per_second_per_cluster": len(tick) / heartbeat + len(wait) / wait_every,
        "upkeep_sql": [q["sql"][:150] for q in tick.captured_queries],
    }  # fmt: skip


def api_enqueue_cost(*, token: str) -> dict:
    """Queries of one POST /api/v1/jobs/ through the whole Django stack (authentication included)."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token}")
    client.post("/api/v1/jobs/", {"handler": "jobs.noop"}, content_type="application/json")  # warm
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/jobs/", {"handler": "jobs.noop"}, content_type="application/json")
    assert response.status_code == 202, response.content
    sqls = [q["sql"] for q in captured.captured_queries]
    return {"queries": len(sqls), "by_layer": dict(Counter(layer_of(s) for s in sqls)), "sql": [s[:150] for s in sqls]}
