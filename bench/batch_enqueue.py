"""Jobs enqueued per second through `POST /api/v1/jobs/batch/` against single `POST /api/v1/jobs/`,
on SQLite and PostgreSQL. Goal: the batch at least 10x as many jobs per second.

In-process, through DRF's APIClient (the whole view stack: authentication, throttle, serializers,
services, rendering), as a superuser (no throttle, no quota). A round posts `--singles` single jobs
one request at a time, and one batch of `--batch` jobs; rounds alternate which goes first, so drift
of a shared machine hits both; the ratio is the median of the round-by-round ratios of jobs per
second. Each database runs in a child process of its own, on a throwaway SQLite file or the
PostgreSQL database `bench_batch`.

    .venv/bin/python bench/batch_enqueue.py [--batch 1000] [--singles 100] [--rounds 10] [--databases sqlite,postgres] [--write]

`--write` also writes the figures to bench/batch_enqueue.md, the section bench/report.py puts into
docs/BENCHMARKS.md (and that file's section is updated in place)."""

from __future__ import annotations

import argparse
import datetime
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

PG_NAME = "bench_batch"
SECTION = BASE_DIR / "bench" / "batch_enqueue.md"
TITLE = "## Batch enqueue"
GOAL = 10.0


def measure(batch: int, singles: int, rounds: int) -> dict:
    """In a child process whose DATABASE_URL is set: jobs per second each way, per round."""
    import django

    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from jobs.models import Job

    call_command("migrate", verbosity=0)
    settings.JOBS_BATCH_MAX_JOBS = max(batch, settings.JOBS_BATCH_MAX_JOBS)
    user, _ = get_user_model().objects.get_or_create(username="bench-batch", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_authenticate(user)
    item = {"handler": "jobs.noop"}

    def single() -> float:
        start = time.perf_counter()
        for _ in range(singles):
            assert client.post("/api/v1/jobs/", item, format="json").status_code == 202
        return singles / (time.perf_counter() - start)

    def batched() -> float:
        start = time.perf_counter()
        assert client.post("/api/v1/jobs/batch/", {"jobs": [item] * batch}, format="json").status_code == 202
        return batch / (time.perf_counter() - start)

    ways = {"single": single, "batch": batched}
    for way in ways.values():  # warm-up: connections, caches, first-use imports
        way()
    rates: dict[str, list[float]] = {name: [] for name in ways}
    for round_ in range(rounds):
        for name, way in sorted(ways.items(), reverse=round_ % 2 == 1):
            rates[name].append(way())
        Job.objects.all().delete()  # the same table size in every round
    ratios = [b / s for b, s in zip(rates["batch"], rates["single"], strict=True)]
    return {"jobs_per_second": rates, "ratio": statistics.median(ratios), "ratios": ratios}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=1000, help="jobs per batch request")
    parser.add_argument("--singles", type=int, default=100, help="single POSTs per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--write", action="store_true", help="write the figures to bench/batch_enqueue.md and docs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.batch, args.singles, args.rounds)))
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.databases.split(","):
            url = standalone.database_url(name, name=PG_NAME, workdir=Path(workdir))
            results[name] = standalone.run_child(
                __file__, url, "--batch", str(args.batch), "--singles", str(args.singles), "--rounds", str(args.rounds)
            )
            report(name, results[name])
    if args.write:
        write(results, args)
    return 0 if all(r["ratio"] >= GOAL for r in results.values()) else 1


def report(name: str, result: dict) -> None:
    for way, values in result["jobs_per_second"].items():
        print(f"{name}: {way:6} median {statistics.median(values):8.0f} jobs/s")
    print(f"{name}: ratio batch / single: median {result['ratio']:.1f} "
          f"(rounds {min(result['ratios']):.1f} .. {max(result['ratios']):.1f})", flush=True)  # fmt: skip


def write(results: dict, args) -> None:
    """The section: what ran, a row per database, the verdict against the goal."""
    rows = []
    for name, result in results.items():
        rate = {way: statistics.median(v) for way, v in result["jobs_per_second"].items()}
        rows.append(f"| {name} | {rate['single']:.0f} | {rate['batch']:.0f} | {result['ratio']:.1f} | "
                    f"{min(result['ratios']):.1f} .. {max(result['ratios']):.1f} | "
                    f"{'PASS' if result['ratio'] >= GOAL else 'MISS'} |")  # fmt: skip
    command = (f".venv/bin/python bench/batch_enqueue.py --batch {args.batch} --singles {args.singles} "
               f"--rounds {args.rounds} --databases {args.databases} --write")  # fmt: skip
    text = "\n".join([
        TITLE, "",
        "Jobs enqueued per second through `POST /api/v1/jobs/batch/` (one request, one transaction, one multi-row "
        "INSERT) against single `POST /api/v1/jobs/`, in-process through DRF's APIClient (authentication, "
        f"serializers, services, rendering; no network), as a superuser; goal: at least {GOAL:.0f}x. Rounds "
        "alternate which way goes first; the ratio is the median of the round-by-round ratios. Not part of "
        "`make bench`: run on its own.", "",
        f"**Command:** `{command}`  \n**Date:** {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"**Rounds:** {args.rounds} x ({args.singles} single POSTs, one batch of {args.batch})  \n"
        f"**Load average at the end:** {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", "",
        "| database | single POSTs jobs/s | batch jobs/s | ratio (median) | rounds | at least 10x |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows, "",
    ])  # fmt: skip
    standalone.write_section(SECTION, TITLE, text)


if __name__ == "__main__":
    sys.exit(main())
