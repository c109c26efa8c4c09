"""Database cost of one no-op job over its whole life, counted query by query in-process.

The product: `job_enqueue` (what the API and every caller run), the broker's delivery (ORM broker:
`dequeue`, `acknowledge`), and `jobs.runner.run(job_id)`, which is exactly what a qcluster worker
executes. Bare django-q2: `async_task`, the delivery, and the monitor's `save_task` (its default
bookkeeping, with save_limit 250 rows already saved, which is its steady state).

Each query is classed by the table it touches (job layer, broker, django-q2 results, other) and by
kind (read, write, transaction control); rows written come from the cursor's rowcount."""

from __future__ import annotations

import re
from collections import Counter

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)
READ = re.compile(r"^\s*SELECT\b", re.I)
TABLE = re.compile(r'(?:INTO|UPDATE|FROM)\s+"?(\w+)"?', re.I)
LAYERS = (("django_q_ormq", "broker"), ("django_q_task", "djq_results"), ("jobs_job", "job"))


def layer_of(sql: str) -> str:
    for table, layer in LAYERS:
        if table in sql:
            return layer
    if not READ.match(sql) and not WRITE.match(sql):
        return "tx"
    return "other"


def kind_of(sql: str) -> str:
    return "write" if WRITE.match(sql) else "read" if READ.match(sql) else "tx"


class Ledger:
    """Every query of the phases run under `record(phase)`, with rows written."""

    def __init__(self):
        self.queries: list[dict] = []

    def record(self, phase: str):
        return _Recording(self, phase)

    def per_job(self, jobs: int) -> dict:
        counts: Counter = Counter()
        rows: Counter = Counter()
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
            "examples": _examples(self.queries),
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
            sql = query["sql"]
            rows = 0  # BEGIN and COMMIT are logged without passing through execute wrappers
            if pending and pending[0][0] == _verb(sql):
                rows = pending.pop(0)[1]
                if rows < 1 and _verb(sql) == "INSERT":  # SQLite counts RETURNING rows only once fetched
                    rows = sql.count("), (") + 1
            table = TABLE.search(sql)
            self.ledger.queries.append(
                {"phase": self.phase, "sql": sql, "rows": rows, "layer": layer_of(sql), "kind": kind_of(sql),
                 "table": table.group(1) if table else ""}
            )


def _verb(sql: str) -> str:
    return sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""


def _examples(queries: list[dict]) -> list[str]:
    """The distinct statements of the first job, shortened, for the document."""
    seen, out = set(), []
    for q in queries:
        key = (q["phase"], q["sql"][:40])
        if key not in seen:
            seen.add(key)
            out.append(f"[{q['phase']}] {q['sql'][:150]}")
    return out[:30]


def _delivered(broker, jobs: int) -> list[tuple]:
    from django_q.signing import SignedPackage

    tasks: list = []
    while len(tasks) < jobs:
        got = broker.dequeue() or []
        tasks += [(ack_id, SignedPackage.loads(payload)) for ack_id, payload in got]
    return tasks


def product_cost(*, jobs: int) -> dict:
    from jobs import runner
    from jobs.services import job_enqueue

    broker = runner._broker("default")  # the one the product dispatches through
    _warm_up_product(broker)
    ledger = Ledger()
    for _ in range(jobs):
        with ledger.record("enqueue"):
            job_enqueue(handler="jobs.noop")
    with ledger.record("deliver"):
        tasks = _delivered(broker, jobs)
    for ack_id, task in tasks:
        with ledger.record("run"):
            runner.run(*task["args"])
        with ledger.record("ack"):
            broker.acknowledge(ack_id)
    return ledger.per_job(jobs)


def _warm_up_product(broker) -> None:
    from jobs import runner
    from jobs.services import job_enqueue

    job_enqueue(handler="jobs.noop")
    for ack_id, task in _delivered(broker, 1):
        runner.run(*task["args"])
        broker.acknowledge(ack_id)


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
    for ack_id, task in tasks:
        task.update(result=None, success=True, stopped=timezone.now())  # what a worker adds after a no-op
        with ledger.record("bookkeeping"):
            save_task(task, broker)
        with ledger.record("ack"):
            broker.acknowledge(ack_id)
    result = ledger.per_job(jobs)
    result["success_rows_kept"] = Success.objects.count()
    return result


def daemon_cost() -> dict:
    """Queries of one tick of the product's per-worker daemon when idle: the pump alone, and the
    pump plus the sweeps (stale heartbeats, undelivered jobs) that run every heartbeat period."""
    from django.conf import settings

    from jobs.runner import WorkerDaemon

    daemon = WorkerDaemon()
    with CaptureQueriesContext(connection) as full:
        daemon.tick()
    with CaptureQueriesContext(connection) as pump:
        daemon.tick()
    sweep_period = max(settings.JOBS_HEARTBEAT_SECONDS, 1.0)
    per_second = len(pump) / settings.JOBS_PUMP_SECONDS + (len(full) - len(pump)) / sweep_period
    return {
        "pump_queries": len(pump),
        "sweep_queries": len(full) - len(pump),
        "pump_seconds": settings.JOBS_PUMP_SECONDS,
        "sweep_seconds": sweep_period,
        "queries_per_second_per_worker": per_second,
        "sweep_sql": [q["sql"][:150] for q in full.captured_queries],
    }


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
