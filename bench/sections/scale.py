"""Section 6: scale. The product's throughput with 1, 2 and 4 worker processes (PostgreSQL; worker
counts alternate run by run), then the same system as finished jobs pile up: 0, 10k, 100k and 1M
finished jobs in the table (inserted with generate_series, then ANALYZE): do the dashboard,
`GET /api/v1/queues/`, enqueue or the worker's throughput slow down?"""

from __future__ import annotations

import statistics

from bench import procs
from bench.plan import Plan

SETUPS = (procs.PG,)
BIG_TABLE_SETUP = procs.PG


def _throughput(setup: procs.Setup, *, count: int, jobs: int) -> float:
    with procs.workers(setup, system="product", count=count):
        result = procs.agent(setup, "session", "--n", str(jobs), "--latency-jobs", "0")
    return result["throughput"]["jobs_per_s"]


def run(plan: Plan, log) -> dict:
    setups = SETUPS
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


def _state(plan: Plan, log, label: str, *, throughput: bool) -> dict:
    setup = BIG_TABLE_SETUP
    reads = procs.agent(setup, "reads", "--repeat", "5")
    enqueue = procs.agent(setup, "enqueue-rate", "--n", str(max(100, plan.scale_jobs // 4)), "--repeat", "3")
    procs.agent(setup, "drop-queued")
    rates = []
    for _ in range(plan.scale_runs if throughput else 0):
        rates.append(_throughput(setup, count=2, jobs=plan.scale_jobs))
        procs.agent(setup, "drop-queued")
    jobs_in_table = reads.pop("_jobs_in_table")
    log(f"  {label}: {jobs_in_table:,} jobs in the table; dashboard {reads['GET /jobs/ (dashboard page)']:.1f} ms, "
        f"queues API {reads['GET /api/v1/queues/']:.1f} ms; enqueue {enqueue['per_s']:.0f}/s"
        + (f"; throughput {statistics.median(rates):.1f} jobs/s" if rates else ""))
    return {"jobs_in_table": jobs_in_table, "reads_ms": reads, "enqueue_per_s": enqueue["per_s"],
            "throughput": statistics.median(rates) if rates else None, "all_throughput": rates}


def _big_table(plan: Plan, log) -> dict:
    """Fill in steps (0, then up to each of the plan's sizes), measuring at each."""
    setup = BIG_TABLE_SETUP
    procs.reset_tables(setup)
    steps = [0, *plan.fill_steps]
    states, fill_seconds, filled = [], 0.0, 0
    for size in steps:
        if size > filled:
            done = procs.agent(setup, "fill", "--n", str(size - filled), timeout=1800)
            fill_seconds += done["seconds"]
            filled = size
            log(f"  inserted {done['rows']:,} finished jobs in {done['seconds']:.1f} s")
        states.append(_state(plan, log, f"{size:,} finished jobs", throughput=size in (0, steps[-1])))
    return {"setup": setup.label, "rows": steps[-1], "fill_seconds": fill_seconds, "steps": steps, "states": states,
            "before": states[0], "after": states[-1]}
