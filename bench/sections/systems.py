"""Sections 1 and 2: throughput and pickup latency of the product, bare django-q2 and Celery.

For each setup (database + broker) the systems take turns (A B A B ...): each run starts that
system's 2 worker processes on emptied tables, warms up, measures the throughput of N no-op jobs
enqueued from one process, then the enqueue-to-start latency of jobs sent one at a time into the
idle workers. Ratios are taken run by run between neighbours and their median is reported."""

from __future__ import annotations

import math
import statistics

from bench import procs
from bench.plan import Plan

COMPARED = {
    procs.SQLITE_ORM.key: ("product", "djq"),
    procs.PG_ORM.key: ("product", "djq"),
    procs.PG_REDIS.key: ("product", "djq", "celery"),
}
# Not a target: django-q2 set up as the product sets it (no results kept), to show how much of the
# product's cost is django-q2's own pipeline. Full runs only (QUICK must stay under 3 minutes).
DIAGNOSTIC = {procs.PG_REDIS.key: ("djq-nores",)}


def run(plan: Plan, log) -> dict:
    runs: dict[str, dict[str, list]] = {}
    for setup in procs.SETUPS:
        systems = COMPARED[setup.key] + (() if plan.quick else DIAGNOSTIC.get(setup.key, ()))
        per_system = runs[setup.key] = {system: [] for system in systems}
        for round_ in range(plan.throughput_runs):
            for system in systems:
                procs.reset_tables(setup)
                with procs.workers(setup, system=system):
                    result = procs.agent(setup, "session", "--n", str(plan.throughput_jobs), "--latency-jobs",
                                         str(plan.latency_jobs_per_run), system=system)
                per_system[system].append(result)
                log(f"  {setup.label:28} {procs.SYSTEM_LABELS[system]:16} run {round_ + 1}/{plan.throughput_runs}: "
                    f"{result['throughput']['jobs_per_s']:7.1f} jobs/s")
    return {"runs": runs, "throughput": _throughput(runs), "latency": _latency(runs)}


def _throughput(runs: dict) -> list[dict]:
    rows = []
    for setup in procs.SETUPS:
        per_system = runs[setup.key]
        for system, results in per_system.items():
            rates = [r["throughput"]["jobs_per_s"] for r in results]
            row = {
                "setup": setup.key, "setup_label": setup.label, "system": system,
                "system_label": procs.SYSTEM_LABELS[system], "jobs": results[0]["throughput"]["n"],
                "runs": len(rates), "jobs_per_s": statistics.median(rates), "all_jobs_per_s": rates,
                "enqueue_per_s": statistics.median(r["throughput"]["enqueue_per_s"] for r in results),
            }  # fmt: skip
            if system != "product":
                row["product_ratio"] = _paired_ratio(per_system["product"], results)
            rows.append(row)
    return rows


def _paired_ratio(products: list, others: list) -> float:
    """Median over runs of product / other, each pair measured back to back."""
    return statistics.median(
        p["throughput"]["jobs_per_s"] / o["throughput"]["jobs_per_s"] for p, o in zip(products, others)
    )


def _latency(runs: dict) -> list[dict]:
    rows = []
    for setup in procs.SETUPS:
        for system, results in runs[setup.key].items():
            samples = sorted(1000 * s for r in results for s in r.get("latency", {}).get("samples", []))
            if not samples:
                continue
            rows.append({
                "setup": setup.key, "setup_label": setup.label, "system": system,
                "system_label": procs.SYSTEM_LABELS[system], "jobs": len(samples),
                "p50_ms": percentile(samples, 50), "p95_ms": percentile(samples, 95),
                "p99_ms": percentile(samples, 99), "max_ms": samples[-1],
            })  # fmt: skip
    return rows


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]
