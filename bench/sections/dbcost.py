"""Section 4: queries and rows written per no-op job over its whole life, product against bare
django-q2, on each setup (counted in-process; see bench/dbcost.py for what runs)."""

from __future__ import annotations

from collections import defaultdict

from bench import procs
from bench.plan import Plan


def run(plan: Plan, log) -> dict:
    rows = []
    details = {}
    for setup in procs.SETUPS:
        for system, action in (("product", "dbcost-product"), ("djq", "dbcost-djq")):
            procs.reset_tables(setup)
            result = procs.agent(setup, action, "--n", str(plan.dbcost_jobs), system=system)
            details[f"{system}/{setup.key}"] = result
            rows.append(summarise(result, setup=setup, system=system))
            log(f"  {setup.label:28} {procs.SYSTEM_LABELS[system]:16} {rows[-1]['total']:.1f} queries/job, "
                f"job layer writes {rows[-1]['job_writes']:.1f}")
    procs.reset_tables(procs.PG_ORM)
    daemon = procs.agent(procs.PG_ORM, "daemon-cost")
    return {"rows": rows, "details": details, "daemon": daemon, "jobs": plan.dbcost_jobs}


def summarise(result: dict, *, setup: procs.Setup, system: str) -> dict:
    by = defaultdict(float)
    for q in result["queries"]:
        by[(q["layer"], q["kind"])] += q["per_job"]
    return {
        "setup": setup.key, "setup_label": setup.label, "system": system,
        "system_label": procs.SYSTEM_LABELS[system],
        "job_writes": by[("job", "write")], "job_reads": by[("job", "read")],
        "broker": by[("broker", "read")] + by[("broker", "write")],
        "results": by[("djq_results", "read")] + by[("djq_results", "write")],
        "tx": by[("tx", "tx")], "other": by[("other", "read")] + by[("other", "write")],
        "writes": sum(n for (layer, kind), n in by.items() if kind == "write"),
        "total": sum(by.values()), "rows_written": sum(result["rows_written"].values()),
        "rows_by_table": result["rows_written"], "api": result.get("api"),
    }  # fmt: skip
