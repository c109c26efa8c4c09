"""Pruning 1,000,000 finished jobs does not stall enqueues or claims running beside it (PostgreSQL).

The child process seeds `--jobs` finished jobs, all past their retention (85% succeeded, 10% failed,
4% cancelled, 1% expired, finished 40 to 52 days ago), with `--events` events each, in a few
INSERT ... SELECT generate_series statements. Then two phases run the same load:

- an enqueuer thread calls `job_enqueue` at `--rate` jobs per second;
- a claimer thread does what a cluster's pusher and a worker do: `job_reserve` for one cluster (up to
  8 jobs), then `job_start` and `job_succeed` for each job it got; it polls every 5 ms when idle.

Baseline: `--baseline-seconds` of the load alone before the prune and as long again after it, pooled
(a shared machine drifts). During: the same load while `job_prune` runs in a forked process over the
whole seeded set, until it ends. Reported: p50/p99/max latency of enqueue, reserve and start+succeed
in both phases and their ratios, the prune rate, its batch transactions (p50/p99/max), and how often a
backend was found waiting on a lock (pg_stat_activity every 10 ms). Goal: p99 of enqueue and reserve
during the prune within 2x the baseline, and no lock waits.

    .venv/bin/python bench/prune.py [--jobs 1000000] [--events 2] [--batch 1000] [--pause 0] [--baseline-seconds 30] [--rate 50] [--write]

Runs on the PostgreSQL database `bench_prune`, recreated, and dropped at the end. `--write` writes the
figures to bench/prune.md, the section bench/report.py puts into docs/BENCHMARKS.md (and that file's
section is updated in place). Not part of `make bench`."""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from bench import standalone  # noqa: E402  (run as a script: the project root on the path first)

PG_NAME = "bench_prune"
SECTION = BASE_DIR / "bench" / "prune.md"
TITLE = "## Pruning finished jobs beside enqueues and claims"
GOAL = 2.0  # p99 during the prune / p99 baseline, at most
CLUSTER, WORKER = "bench-prune:1", "bench-prune:1:w1"
OPERATIONS = ("enqueue", "reserve", "start_succeed")
PRUNER = "bench-prune"  # the prune's application_name, to tell which lock waits it caused
# The load's backends waiting on a lock, and whether the prune's backend is among the blockers.
LOCK_WAITS_SQL = f"""SELECT a.wait_event, EXISTS (SELECT 1 FROM pg_stat_activity b
    WHERE b.application_name = '{PRUNER}' AND b.pid = ANY(pg_blocking_pids(a.pid)))
    FROM pg_stat_activity a WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
    AND a.application_name <> '{PRUNER}'"""


def seed(jobs: int, events: int) -> float:
    """`jobs` finished jobs past every default retention, `events` events each; seconds it took."""
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO jobs_job (handler, args, queue, priority, status, attempts, max_attempts, timeout,
                run_after, progress, trace_id, trace_parent, reserved_by, worker, created_at, started_at, finished_at)
            SELECT 'jobs.noop', '{}', 'default', 0,
                CASE WHEN i %% 100 < 85 THEN 'succeeded' WHEN i %% 100 < 95 THEN 'failed'
                     WHEN i %% 100 < 99 THEN 'cancelled' ELSE 'expired' END,
                1, 3, 30, t, '{}', lpad(to_hex(i), 32, '0'), '', '', '', t, t, t + interval '1 second'
            FROM (SELECT i, now() - interval '52 days' + i * (interval '12 days' / %s) AS t
                  FROM generate_series(1, %s) AS i) s""", [jobs, jobs])  # fmt: skip
        for n in range(events):
            cursor.execute("""
                INSERT INTO jobs_jobevent (job_id, at, kind, attempt, message)
                SELECT id, finished_at, %s, 1, '' FROM jobs_job""", ["started" if n == 0 else "log"])  # fmt: skip
    with connection.cursor() as cursor:  # autocommit: fresh statistics, as a settled table would have
        cursor.execute("VACUUM ANALYZE jobs_job")
        cursor.execute("VACUUM ANALYZE jobs_jobevent")
    return time.perf_counter() - start


def load(stop: threading.Event, rate: float) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Enqueue at `rate` per second and claim what comes due, until `stop`: latencies in seconds, and
    how many samples of pg_stat_activity (every 10 ms) found a backend waiting on a lock."""
    from django.db import connection

    from jobs import services

    latencies: dict[str, list[float]] = {name: [] for name in OPERATIONS}
    locks = {"samples": 0, "waiting": 0, "on_prune": 0, "events": {}}

    def monitor() -> None:
        try:
            with connection.cursor() as cursor:
                while not stop.wait(0.01):
                    cursor.execute(LOCK_WAITS_SQL)
                    waits = cursor.fetchall()
                    locks["samples"] += 1
                    locks["waiting"] += bool(waits)
                    locks["on_prune"] += any(on_prune for _, on_prune in waits)
                    for event, _ in waits:
                        locks["events"][event] = locks["events"].get(event, 0) + 1
        finally:
            connection.close()

    def enqueuer() -> None:
        try:
            due = time.perf_counter()
            while not stop.is_set():
                due += 1 / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                start = time.perf_counter()
                services.job_enqueue(handler="jobs.noop")
                latencies["enqueue"].append(time.perf_counter() - start)
        finally:
            connection.close()

    def claimer() -> None:
        try:
            while not stop.is_set():
                start = time.perf_counter()
                reserved = services.job_reserve(cluster=CLUSTER, queues=["default"], capacity=8)
                latencies["reserve"].append(time.perf_counter() - start)
                for job_id, _ in reserved:
                    start = time.perf_counter()
                    job = services.job_start(job_id=job_id, cluster=CLUSTER, worker=WORKER)
                    services.job_succeed(job=job, result=None)
                    latencies["start_succeed"].append(time.perf_counter() - start)
                if not reserved:
                    stop.wait(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=target) for target in (enqueuer, claimer, monitor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, locks


def prune(go, results, batch: int, pause: float) -> None:
    """In a forked process: wait for the load to run, then prune everything past its retention."""
    from jobs import services

    from django.db import connection

    go.wait()  # the parent forked with no connection open: this process opens its own
    with connection.cursor() as cursor:
        cursor.execute(f"SET application_name = '{PRUNER}'")
    start = time.perf_counter()
    ends = [start]
    report = services.job_prune(batch=batch, pause=pause, on_batch=lambda deleted: ends.append(time.perf_counter()))
    durations = [b - a for a, b in zip(ends, ends[1:])]
    results.put({**report.as_dict(), "seconds": time.perf_counter() - start, "batch_ms": summary(durations)})


def summary(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    if not ordered:
        return {"count": 0, "p50": None, "p99": None, "max": None}
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"count": len(ordered), "p50": at(0.50), "p99": at(0.99), "max": ordered[-1] * 1000}


def measure(args) -> dict:
    """In a child process whose DATABASE_URL is set."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from jobs.models import Job, JobEvent

    call_command("migrate", verbosity=0)
    seeded = seed(args.jobs, args.events)
    events = JobEvent.objects.count()
    connections.close_all()  # before the fork

    before = timed(args.baseline_seconds, args.rate)
    context = multiprocessing.get_context("fork")
    go, results = context.Event(), context.Queue()
    pruner = context.Process(target=prune, args=(go, results, args.batch, args.pause))
    pruner.start()
    stop = threading.Event()
    watcher = threading.Thread(target=lambda: (go.set(), pruner.join(), stop.set()))
    started = time.perf_counter()
    watcher.start()
    during, during_locks = load(stop, args.rate)
    during_seconds = time.perf_counter() - started
    watcher.join()
    report = results.get(timeout=10)
    after = timed(args.baseline_seconds, args.rate)
    # The seeded jobs finished 40 days ago or more; the load's own jobs just now.
    left = Job.objects.filter(status__in=Job.FINISHED, finished_at__lt=timezone.now() - datetime.timedelta(days=39))
    baseline = {name: before[0][name] + after[0][name] for name in OPERATIONS}
    return {
        "jobs": args.jobs, "events": events, "seed_seconds": seeded, "prune": report,
        "during_seconds": during_seconds, "left": left.count(),
        "baseline": {name: summary(values) for name, values in baseline.items()},
        "before": {name: summary(values) for name, values in before[0].items()},
        "after": {name: summary(values) for name, values in after[0].items()},
        "during": {name: summary(values) for name, values in during.items()},
        "lock_waits": {"before": before[1], "after": after[1], "during": during_locks},
    }  # fmt: skip


def timed(seconds: float, rate: float) -> tuple[dict[str, list[float]], dict[str, int]]:
    """The load alone for `seconds`."""
    stop = threading.Event()
    threading.Timer(seconds, stop.set).start()
    return load(stop, rate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1_000_000, help="finished jobs to seed and prune")
    parser.add_argument("--events", type=int, default=2, help="events per seeded job")
    parser.add_argument("--batch", type=int, default=1000, help="jobs per prune transaction")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds the prune sleeps between batches")
    parser.add_argument("--baseline-seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=50.0, help="enqueues per second, in both phases")
    parser.add_argument("--write", action="store_true", help="write the figures to bench/prune.md and docs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args)))
        return 0
    options = ["--jobs", str(args.jobs), "--events", str(args.events), "--batch", str(args.batch), "--pause", str(args.pause),
               "--baseline-seconds", str(args.baseline_seconds), "--rate", str(args.rate)]  # fmt: skip
    with tempfile.TemporaryDirectory() as workdir:
        url = standalone.database_url("postgres", name=PG_NAME, workdir=Path(workdir))
        try:
            result = standalone.run_child(__file__, url, *options)
        finally:
            drop()
    print(json.dumps(result, indent=2))
    if args.write:
        write(result, args)
    return 0 if passed(result) else 1


def drop() -> None:
    import psycopg

    with psycopg.connect(standalone.PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")


def ratio(result: dict, name: str, stat: str) -> float:
    return result["during"][name][stat] / result["baseline"][name][stat]


def passed(result: dict) -> bool:
    return (all(ratio(result, name, "p99") <= GOAL for name in ("enqueue", "reserve")) and result["left"] == 0
            and result["lock_waits"]["during"]["on_prune"] == 0)  # fmt: skip


def waits(locks: dict) -> str:
    kinds = ", ".join(f"{event} {n}" for event, n in sorted(locks["events"].items()))
    return f"{locks['waiting']} of {locks['samples']}" + (f" ({kinds})" if kinds else "")


def ms(stats: dict) -> str:
    return f"{stats['p50']:.1f} / {stats['p99']:.1f} / {stats['max']:.1f}"


def write(result: dict, args) -> None:
    """The section: method, command, a row per operation, the prune's own figures."""
    prune_, locks = result["prune"], result["lock_waits"]
    rows = []
    for name in OPERATIONS:
        base, during = result["baseline"][name], result["during"][name]
        rows.append(
            f"| {name.replace('_', ' + ')} | {base['count']} | {ms(base)} | {result['before'][name]['p99']:.1f} / "
            f"{result['after'][name]['p99']:.1f} | {during['count']} | {ms(during)} | {ratio(result, name, 'p50'):.2f} / "
            f"{ratio(result, name, 'p99'):.2f} / {ratio(result, name, 'max'):.2f} |"
        )
    command = (f".venv/bin/python bench/prune.py --jobs {args.jobs} --events {args.events} --batch {args.batch} "
               f"--pause {args.pause:g} --baseline-seconds {args.baseline_seconds:g} --rate {args.rate:g} --write")  # fmt: skip
    verdict = "PASS" if passed(result) else "MISS"
    text = "\n".join([
        TITLE, "",
        f"{result['jobs']:,} finished jobs past their retention, with {result['events']:,} events, pruned by "
        f"`job_prune` in a process of its own, in batches of {args.batch} jobs, each batch one transaction (select "
        "the ids through `job_status_finished_idx`, delete their events, delete the jobs), while one thread enqueues "
        "`jobs.noop` at a fixed rate and another claims like a cluster (`job_reserve` for one cluster, up to 8 jobs, "
        "then `job_start` and `job_succeed` per job). The baseline is the same load alone, before the prune and "
        "again after it, pooled. Latencies in ms. Goal: enqueue and reserve p99 during the prune within "
        f"{GOAL:.0f}x the baseline, and no backend of the load ever waiting on a lock the prune holds "
        "(pg_stat_activity and pg_blocking_pids sampled every 10 ms). "
        "PostgreSQL only: SQLite has one writer, so there a batch holds every writer back for its length. Not "
        "part of `make bench`: run on its own (it drops its database `bench_prune` at the end).", "",
        f"**Command:** `{command}`  \n**Date:** {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"**Load average at the end:** {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs  \n"
        f"**Phases:** seeding {result['seed_seconds']:.0f} s; baseline {args.baseline_seconds:g} s before and "
        f"{args.baseline_seconds:g} s after; during the prune {result['during_seconds']:.0f} s; "
        f"{args.rate:g} enqueues/s throughout", "",
        "| operation | baseline ops | baseline p50 / p99 / max | p99 before / after | during ops "
        "| during p50 / p99 / max | during / baseline p50 / p99 / max |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows, "",
        f"**Prune:** {prune_['total_jobs']:,} jobs and {prune_['total_events']:,} events in {prune_['seconds']:.1f} s "
        f"({prune_['total_jobs'] / prune_['seconds']:,.0f} jobs/s), {prune_['batches']} batches {args.pause:g} s apart; a batch "
        f"transaction took {ms(prune_['batch_ms'])} ms (p50 / p99 / max; longest as the service timed it "
        f"{prune_['longest_batch_seconds'] * 1000:.0f} ms). Finished jobs left past their retention: {result['left']}. "
        f"**Lock waits** (samples with one of the load's backends waiting on a lock, of all samples): during the "
        f"prune {waits(locks['during'])}, of which blocked by the prune: {locks['during']['on_prune']}; baseline "
        f"before {waits(locks['before'])}, after {waits(locks['after'])}.  ",
        f"**Verdict:** {verdict} (p99 ratios: enqueue {ratio(result, 'enqueue', 'p99'):.2f}, reserve "
        f"{ratio(result, 'reserve', 'p99'):.2f}; start + succeed {ratio(result, 'start_succeed', 'p99'):.2f}).", "",
    ])  # fmt: skip
    standalone.write_section(SECTION, TITLE, text)


if __name__ == "__main__":
    sys.exit(main())
