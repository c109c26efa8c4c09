"""The cost of enqueueing through Django's task API (`task.enqueue()`, jobs.tasks_backend) against
`job_enqueue()` directly, on SQLite and PostgreSQL with the ORM broker. Goal: within 10%.

Both sides enqueue the same function with one argument, each enqueue in its own transaction (as a
view in autocommit does): `noop_task.enqueue(i)` against `job_enqueue(handler="bench.noop", args={"n": i})`.
Rounds alternate (A B, B A, ...) in one process, so drift of a shared machine hits both; the ratio is
the median of the round-by-round ratios, on the wall clock and on this process's CPU time (the
backend's own work, without the database's noise). Each database runs in a child process of its own (Django
is set up once per process), on a throwaway SQLite file or the PostgreSQL database `bench_tasks`.

    .venv/bin/python bench/tasks_enqueue.py [--jobs 60] [--rounds 40] [--databases sqlite,postgres] [--write]

`--write` also writes the figures to bench/tasks_enqueue.md, the section `bench/run.py` puts into
docs/BENCHMARKS.md (and that file's section is updated in place)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from bench import standalone  # noqa: E402  (run as a script: the project root on the path first)

PG_NAME = "bench_tasks"
SECTION = BASE_DIR / "bench" / "tasks_enqueue.md"
TITLE = "## Enqueue through django.tasks"
GOAL = 1.10


def noop(ctx, *, n: int) -> None:
    """The direct side's handler."""


def noop_task(n: int) -> None:
    """The standard side's task (the same call)."""


def measure(jobs: int, rounds: int) -> dict:
    """In a child process whose DATABASE_URL is set: the rounds, alternating the two ways."""
    import django

    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django_tasks import task

    from jobs.models import Job
    from jobs.registry import handler
    from jobs.services import job_enqueue

    call_command("migrate", verbosity=0)
    handler("bench.noop", timeout=30)(noop)
    standard = task(noop_task)

    ways = {
        "task.enqueue()": lambda i: standard.enqueue(i),
        "job_enqueue()": lambda i: job_enqueue(handler="bench.noop", args={"n": i}),
    }
    for way in ways.values():  # warm-up: connections, caches, first-use imports
        for i in range(50):
            way(i)
    wall: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    for round_ in range(rounds):
        for name, way in sorted(ways.items(), reverse=round_ % 2 == 1):  # A B, then B A: no side always goes first
            start, start_cpu = time.perf_counter(), time.process_time()
            for i in range(jobs):
                way(i)
            wall[name].append((time.perf_counter() - start) / jobs * 1e6)
            cpu[name].append((time.process_time() - start_cpu) / jobs * 1e6)
    Job.objects.all().delete()
    return {"wall": _compare(wall), "cpu": _compare(cpu)}


def _compare(us: dict[str, list[float]]) -> dict:
    ratios = [a / b for a, b in zip(us["task.enqueue()"], us["job_enqueue()"], strict=True)]
    return {"us_per_enqueue": us, "ratio": statistics.median(ratios), "ratios": ratios}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=60, help="enqueues per round and way")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--write", action="store_true", help="write the figures to bench/tasks_enqueue.md and docs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.jobs, args.rounds)))
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.databases.split(","):
            url = standalone.database_url(name, name=PG_NAME, workdir=Path(workdir))
            results[name] = standalone.run_child(__file__, url, "--jobs", str(args.jobs), "--rounds", str(args.rounds))
            report(name, args, results[name])
    if args.write:
        write(results, args)
    return 0 if all(r["wall"]["ratio"] <= GOAL for r in results.values()) else 1


def report(name: str, args, result: dict) -> None:
    print(f"{name}: {args.rounds} rounds x {args.jobs} enqueues per way")
    for clock in ("wall", "cpu"):
        for way, values in result[clock]["us_per_enqueue"].items():
            print(f"  {clock:4} {way:15} median {statistics.median(values):6.0f} us/enqueue")
        print(f"  {clock:4} ratio task.enqueue() / job_enqueue(): median {result[clock]['ratio']:.3f} "
              f"(rounds {min(result[clock]['ratios']):.2f} .. {max(result[clock]['ratios']):.2f})", flush=True)


def write(results: dict, args) -> None:
    """The section: what ran, a row per database and clock, the verdict against the goal."""
    import datetime

    rows = []
    for name, result in results.items():
        for clock in ("wall", "cpu"):
            us = {way: statistics.median(v) for way, v in result[clock]["us_per_enqueue"].items()}
            ratio = result[clock]["ratio"]
            rows.append(f"| {name} | {clock} | {us['task.enqueue()']:.0f} | {us['job_enqueue()']:.0f} | "
                        f"{ratio:.3f} | {min(result[clock]['ratios']):.2f} .. {max(result[clock]['ratios']):.2f} | "
                        f"{'PASS' if ratio <= GOAL else 'MISS'} |")
    command = f".venv/bin/python bench/tasks_enqueue.py --jobs {args.jobs} --rounds {args.rounds} --write"
    text = "\n".join([
        TITLE, "",
        "The cost of enqueueing through Django's task API (`task.enqueue()`, `jobs.tasks_backend`) against "
        "`job_enqueue()` directly, each enqueue in its own transaction, ORM broker; goal: within 10% "
        f"(ratio <= {GOAL:.2f}). Rounds alternate in one process (A B, B A, ...); the ratio is the median of "
        "the round-by-round ratios; `cpu` is the enqueuing process's CPU time, without the database's share. "
        "Not part of `make bench`: run on its own.", "",
        f"**Command:** `{command}`  \n**Date:** {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"**Rounds:** {args.rounds} x {args.jobs} enqueues per way  \n"
        f"**Load average at the end:** {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (a shared machine: single "
        "rounds vary widely, hence the median of ratios)", "",
        "| database | clock | task.enqueue() us | job_enqueue() us | ratio (median) | rounds | within 10% |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows, "",
    ])  # fmt: skip
    standalone.write_section(SECTION, TITLE, text)


if __name__ == "__main__":
    sys.exit(main())
