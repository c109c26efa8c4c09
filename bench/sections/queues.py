"""Section 7: weighted queues under a full backlog. Three queues, JOBS_QUEUES="critical:6,default:3,low:1",
each filled with the same number of no-op jobs before one cluster (2 workers) starts; the shares are
counted over the first jobs it starts, against the weights (60/30/10). Then the same in strict mode
(JOBS_STRICT_QUEUES=1): the heaviest queue with work always first."""

from __future__ import annotations

from bench import procs
from bench.plan import Plan

SETUP = procs.PG
QUEUES = "critical:6,default:3,low:1"
WEIGHTS = {"critical": 6, "default": 3, "low": 1}
MODES = (("weighted", "0"), ("strict", "1"))


def run(plan: Plan, log) -> dict:
    out = {"queues": QUEUES, "weights": {q: w / sum(WEIGHTS.values()) for q, w in WEIGHTS.items()},
           "per_queue": plan.queue_jobs, "first": plan.queue_first, "setup": SETUP.label}
    for mode, strict in MODES:
        env = {"JOBS_QUEUES": QUEUES, "JOBS_STRICT_QUEUES": strict}
        procs.reset_tables(SETUP)
        procs.agent(SETUP, "queue-fill", "--n", str(plan.queue_jobs), **env)
        with procs.workers(SETUP, system="product", **env):
            shares = procs.agent(SETUP, "queue-shares", "--n", str(plan.queue_first), **env)
        out[mode] = shares
        log(f"  {mode}: " + ", ".join(f"{q} {shares['shares'].get(q, 0):.1%}" for q in WEIGHTS)
            + f" of the first {plan.queue_first}")
    return out
