"""Section 4: statements per no-op job over its whole life, counted in-process (bench/dbcost.py):
the product's enqueue, the broker's reserve and the worker's run, for a batch of 4 jobs per reserve
(a cluster's full capacity: 2 workers + prefetch 1 + 1 in the pusher's hand) and for the worst case
of one job per reserve; bare django-q2 on its ORM broker for reference."""

from __future__ import annotations

from collections import defaultdict

from bench import procs
from bench.plan import Plan

BATCHES = (4, 1)


def run(plan: Plan, log) -> dict:
    rows = []
    details = {}
    for setup in procs.SETUPS:
        for batch in BATCHES:
            procs.reset_tables(setup)
            result = procs.agent(setup, "dbcost-product", "--n", str(plan.dbcost_jobs), "--batch", str(batch))
            details[f"product/{setup.key}/{batch}"] = result
            rows.append(summarise(result, setup=setup, system="product", batch=batch))
            log(f"  {setup.label:11} product, batch {batch}: {rows[-1]['total']:.2f} statements/job, "
                f"{rows[-1]['round_trips']:.2f} round trips, +{rows[-1]['health_checks']:.2f} health checks "
                f"({', '.join(f'{k} {v:.2f}' for k, v in result['by_phase'].items())})")
        procs.reset_tables(setup)
        result = procs.agent(setup, "dbcost-djq", "--n", str(plan.dbcost_jobs), system="djq")
        details[f"djq/{setup.key}"] = result
        rows.append(summarise(result, setup=setup, system="djq", batch=None))
        log(f"  {setup.label:11} bare django-q2: {rows[-1]['total']:.2f} statements/job")
    idle = {}
    for setup in procs.SETUPS:
        procs.reset_tables(setup)
        idle[setup.key] = procs.agent(setup, "idle-cost")
    return {"rows": rows, "details": details, "idle": idle, "jobs": plan.dbcost_jobs}


def summarise(result: dict, *, setup: procs.Setup, system: str, batch: int | None) -> dict:
    by = defaultdict(float)
    for q in result["queries"]:
        by[(q["layer"], q["kind"])] += q["per_job"]
    return {
        "setup": setup.key, "setup_label": setup.label, "system": system, "batch": batch,
        "system_label": procs.SYSTEM_LABELS[system], "by_phase": result["by_phase"],
        "job_writes": by[("job", "write")], "job_reads": by[("job", "read")],
        "broker": by[("broker", "read")] + by[("broker", "write")],
        "results": by[("djq_results", "read")] + by[("djq_results", "write")],
        "tx": by[("tx", "tx")], "other": by[("other", "read")] + by[("other", "write")],
        "writes": sum(n for (layer, kind), n in by.items() if kind == "write"),
        "total": sum(by.values()), "round_trips": result.get("round_trips"),
        "health_checks": result.get("health_checks", 0), "rows_written": sum(result["rows_written"].values()),
        "rows_by_table": result["rows_written"], "api": result.get("api"),
    }  # fmt: skip
