"""Sections 1 and 2: throughput and pickup latency of the product against its peers.

For each database the systems take turns (A B C ... A B C ...): each run starts that system's 2
worker processes on emptied tables and warms them up, then measures
- (b) "while draining": N no-op jobs enqueued from one process as fast as it goes into the running
  workers, the clock from the first enqueue to the last job done;
- (a) "pre-enqueued": N no-op jobs enqueued while the workers are frozen (SIGSTOP), the clock from
  SIGCONT to the last job done;
- pickup: jobs sent one at a time into the idle workers, enqueue commit to handler start.
Ratios are taken run by run between the product and each peer of the same round; their median is
reported. The product's cluster runs with JOBS_ONRAMP_SECONDS=0 (every run warms up first anyway)."""

from __future__ import annotations

import math
import statistics

from bench import procs
from bench.plan import Plan

COMPARED = {
    procs.SQLITE.key: ("product", "djq-keep"),
    procs.PG.key: ("product", "djq-keep", "djq", "procrastinate", "celery"),
}
MODES = (("throughput", "enqueued while draining"), ("drain", "pre-enqueued, then drained"))


def run(plan: Plan, log) -> dict:
    runs: dict[str, dict[str, list]] = {}
    for setup in procs.SETUPS:
        per_system = runs[setup.key] = {system: [] for system in COMPARED[setup.key]}
        for round_ in range(plan.throughput_runs):
            for system in per_system:
                procs.reset_tables(setup)
                with procs.workers(setup, system=system) as workers:
                    pgids = ",".join(str(p) for p in workers.pgids)
                    result = procs.agent(setup, "session", "--n", str(plan.throughput_jobs), "--latency-jobs",
                                         str(plan.latency_jobs_per_run), "--pgids", pgids, system=system)
                per_system[system].append(result)
                lat = sorted(result.get("latency", {}).get("samples", [])) or [math.nan]
                log(f"  {setup.label:11} {procs.SYSTEM_LABELS[system]:62} run {round_ + 1}/{plan.throughput_runs}: "
                    f"{result['throughput']['jobs_per_s']:7.1f} jobs/s while draining, "
                    f"{result['drain']['jobs_per_s']:7.1f} pre-enqueued, pickup p50 "
                    f"{1000 * lat[len(lat) // 2]:.1f} ms")
    return {"runs": runs, "throughput": _throughput(runs), "latency": _latency(runs)}


def _throughput(runs: dict) -> list[dict]:
    rows = []
    for setup in procs.SETUPS:
        per_system = runs[setup.key]
        for mode, mode_label in MODES:
            for system, results in per_system.items():
                rates = [r[mode]["jobs_per_s"] for r in results]
                row = {
                    "setup": setup.key, "setup_label": setup.label, "mode": mode, "mode_label": mode_label,
                    "system": system, "system_label": procs.SYSTEM_LABELS[system], "jobs": results[0][mode]["n"],
                    "runs": len(rates), "jobs_per_s": statistics.median(rates), "all_jobs_per_s": rates,
                }  # fmt: skip
                if mode == "throughput":
                    row["enqueue_per_s"] = statistics.median(r[mode]["enqueue_per_s"] for r in results)
                if system != "product":
                    row["product_ratio"] = statistics.median(
                        p[mode]["jobs_per_s"] / o[mode]["jobs_per_s"] for p, o in zip(per_system["product"], results)
                    )
                rows.append(row)
    return rows


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
