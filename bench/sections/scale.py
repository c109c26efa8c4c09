"""Section 6: scale. The product's throughput with 1, 2 and 4 worker processes (PostgreSQL, both
brokers; worker counts alternate run by run), then the same system with a million finished jobs in
the table: does enqueue, the worker's throughput, or what an operator reads slow down?"""

from __future__ import annotations

import statistics

from bench import procs
from bench.plan import Plan

SETUPS = (procs.PG_ORM, procs.PG_REDIS)
BIG_TABLE_SETUP = procs.PG_ORM


def _throughput(setup: procs.Setup, *, count: int, jobs: int) -> float:
    with procs.workers(setup, system="product", count=count):
        result = procs.agent(setup, "session", "--n", str(jobs), "--latency-jobs", "0")
    return result["throughput"]["jobs_per_s"]


def run(plan: Plan, log) -> dict:
    setups = SETUPS[-1:] if plan.quick else SETUPS  # QUICK: the Redis broker only
    workers: dict[str, dict[int, list[float]]] = {s.key: {c: [] for c in plan.scale_workers} for s in setups}
    for round_ in range(plan.scale_runs):
        for setup in setups:
            for count in plan.scale_workers:
                procs.reset_tables(setup)
                rate = _throughput(setup, count=count, jobs=plan.scale_jobs)
                workers[setup.key][count].append(rate)
                log(f"  {setup.label:28} {count} worker(s) run {round_ + 1}: {rate:7.1f} jobs/s")
    worker_rows = [
        {"setup": s.key, "setup_label": s.label, "workers": c, "jobs_per_s": statistics.median(workers[s.key][c]),
         "all_jobs_per_s": workers[s.key][c]}
        for s in setups for c in plan.scale_workers
    ]  # fmt: skip
    return {"jobs": plan.scale_jobs, "runs": plan.scale_runs, "workers": worker_rows,
            "big_table": _big_table(plan, log)}


def _state(plan: Plan, log, label: str) -> dict:
    setup = BIG_TABLE_SETUP
    reads = procs.agent(setup, "reads", "--repeat", "5")
    enqueue = procs.agent(setup, "enqueue-rate", "--n", str(max(100, plan.scale_jobs // 4)), "--repeat", "3")
    procs.agent(setup, "drop-queued")
    rates = []
    for _ in range(plan.scale_runs):
        rates.append(_throughput(setup, count=2, jobs=plan.scale_jobs))
        procs.agent(setup, "drop-queued")
    jobs_in_table = reads.pop("_jobs_in_table")
    log(f"  {label}: {jobs_in_table:,} jobs in the table; enqueue {enqueue['per_s']:.0f}/s; "
        f"throughput {statistics.median(rates):.1f} jobs/s")
    return {"jobs_in_table": jobs_in_table, "reads_ms": reads, "enqueue_per_s": enqueue["per_s"],
            "throughput": statistics.median(rates), "all_throughput": rates}


def _big_table(plan: Plan, log) -> dict:
    setup = BIG_TABLE_SETUP
    procs.reset_tables(setup)
    before = _state(plan, log, "empty table")
    procs.reset_tables(setup)
    filled = procs.agent(setup, "fill", "--n", str(plan.fill_rows), timeout=1800)
    log(f"  inserted {filled['rows']:,} finished jobs in {filled['seconds']:.1f} s")
    after = _state(plan, log, "large table")
    return {"setup": setup.label, "rows": plan.fill_rows, "fill_seconds": filled["seconds"], "before": before,
            "after": after}
