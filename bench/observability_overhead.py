"""What the handler middleware and the metrics cost a job (issue 11's goal: at most 10% of throughput with
tracing off and metrics on), measured on a job's whole life in one process: `job_enqueue`, the broker's
reserve and `runner.run`, as a qcluster worker runs it, on PostgreSQL (database `bench_obs`).

Two ways, alternating in rounds (A B, B A, ...) so that a shared machine's drift hits both: as shipped
(JOBS_MIDDLEWARE and JOBS_ENQUEUE_MIDDLEWARE at their defaults, prometheus-client's multiprocess mode
in a temporary PROMETHEUS_MULTIPROC_DIR, no OTEL_* variable so tracing is off), and bare (both
middleware lists empty, the runner's and the enqueue's metric hooks replaced by no-ops). The ratio is the
median of the round-by-round ratios of jobs per second, on the wall clock and on this process's CPU time.

    .venv/bin/python bench/observability_overhead.py [--jobs 100] [--rounds 20]"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

BASE_DIR = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_NAME = "bench_obs"
GOAL = 0.90  # bare / shipped jobs per second must stay above 1 / 1.1; shown as shipped / bare


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100, help="jobs per round and way")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {PG_NAME}", "-c", f"CREATE DATABASE {PG_NAME}"],
                   check=True, capture_output=True)  # fmt: skip
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{PG_NAME}",
        PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="bench-obs-"),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
    for name in [key for key in os.environ if key.startswith("OTEL_")]:
        del os.environ[name]  # tracing off, as the goal says
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rows = measure(args.jobs, args.rounds)
    wall = statistics.median(r["shipped_wall"] / r["bare_wall"] for r in rows)
    cpu = statistics.median(r["shipped_cpu"] / r["bare_cpu"] for r in rows)
    per_job = statistics.median(r["shipped_wall"] for r in rows) / args.jobs * 1e6
    print(f"command: .venv/bin/python bench/observability_overhead.py --jobs {args.jobs} --rounds {args.rounds}")
    print(f"{args.rounds} rounds x {args.jobs} jobs per way, PostgreSQL; shipped: {per_job:.0f} us per job")
    print(f"time per job, shipped / bare: wall {wall:.3f}, cpu {cpu:.3f}")
    throughput = 1 / wall
    print(f"throughput, shipped / bare: {throughput:.3f} ({'PASS' if throughput >= GOAL else 'MISS'}: goal >= {GOAL})")
    return 0


def measure(jobs: int, rounds: int) -> list[dict]:
    from django.test.utils import override_settings

    from jobs import runner, services

    def life() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(jobs):
            services.job_enqueue(handler="jobs.noop")
        left = jobs
        while left:
            batch = services.job_reserve(cluster="bench:1", queues=["default"], capacity=4)
            for job_id, _timeout in batch:
                runner.run(job_id)
            left -= len(batch)
        return time.perf_counter() - wall, time.process_time() - cpu

    def bare() -> tuple[float, float]:
        with ExitStack() as stack:
            stack.enter_context(override_settings(JOBS_MIDDLEWARE=[], JOBS_ENQUEUE_MIDDLEWARE=[]))
            for name in ("job_started", "job_ended", "job_enqueued"):
                stack.enter_context(mock.patch(f"jobs.metrics.{name}", lambda *a, **k: None))
            return life()

    runner._cluster = "bench:1"  # start what this "cluster" reserved, as a worker does
    life(), bare()  # warm-up: connections, imports, plans
    rows = []
    for i in range(rounds):
        order = [("shipped", life), ("bare", bare)] if i % 2 == 0 else [("bare", bare), ("shipped", life)]
        row = {}
        for name, way in order:
            row[f"{name}_wall"], row[f"{name}_cpu"] = way()
        rows.append(row)
    return rows


if __name__ == "__main__":
    sys.exit(main())
