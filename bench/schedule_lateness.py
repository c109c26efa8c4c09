"""How late schedules fire, and whether any firing runs twice, with three real qclusters on SQLite and
PostgreSQL. Goal: a firing starts within 1 s of its time (django-q2's scheduler: up to 30 s), and
never twice.

Per database, in a child process of its own (a throwaway SQLite file, or the PostgreSQL database
`bench_schedule`): migrate, start three `qcluster`s (2 workers each, production settings), wait until
each has reported in, then create `--schedules` schedules firing every second (cron `* * * * * *`,
handler `jobs.noop`) and let them run `--seconds` seconds; pause them and wait for the last firings.
A firing's lateness is its job's `started_at` (the worker's start) minus its `scheduled_for`. Double
firings are (schedule, firing time) pairs with more than one job, plus jobs with more than one
`started` event; missed ticks are seconds between a schedule's first and last firing with no job.

    .venv/bin/python bench/schedule_lateness.py [--schedules 4] [--seconds 75] [--databases sqlite,postgres] [--write]

`--write` also writes the figures to bench/schedule_lateness.md, the section bench/report.py puts into
docs/BENCHMARKS.md (and that file's section is updated in place)."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from bench import standalone  # noqa: E402  (run as a script: the project root on the path first)

PG_NAME = "bench_schedule"
SECTION = BASE_DIR / "bench" / "schedule_lateness.md"
TITLE = "## Schedule firing lateness"
CLUSTERS = 3
GOAL_SECONDS = 1.0


def _clusters(workdir: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "JOBS_WORKERS": "2"}
    return [
        subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "qcluster"], cwd=BASE_DIR, env=env,
                         stdout=open(workdir / f"qcluster-{n}.log", "wb"), stderr=subprocess.STDOUT,
                         start_new_session=True)  # fmt: skip
        for n in range(CLUSTERS)
    ]


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # a worker left in its group must not outlive the run
        except ProcessLookupError:
            pass


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def measure(schedules: int, seconds: float, workdir: Path) -> dict:
    """In a child process whose DATABASE_URL is set: the lateness of every firing, and the doubles."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from jobs import services
    from jobs.models import Cluster, Schedule

    call_command("migrate", verbosity=0)
    procs = _clusters(workdir)
    try:
        _wait(lambda: Cluster.objects.filter(seen_at__gte=timezone.now() - datetime.timedelta(seconds=5)).count()
              >= CLUSTERS, 60, "the clusters to report")  # fmt: skip
        time.sleep(3)  # past the clusters' on-ramp
        made = [services.schedule_create(name=f"bench-{n}", handler="jobs.noop", cron="* * * * * *",
                                         overlap="allow") for n in range(schedules)]  # fmt: skip
        time.sleep(seconds)
        for schedule in made:
            services.schedule_pause(schedule=schedule)
        _wait(lambda: not _active(made), 60, "the last firings to finish")
    finally:
        _stop(procs)
    return _figures(list(Schedule.objects.all()))


def _active(schedules) -> bool:
    from jobs.models import Job

    return Job.objects.filter(schedule__in=schedules, status__in=Job.ACTIVE).exists()


def _figures(schedules) -> dict:
    from django.db.models import Count

    from jobs.models import Job, JobEvent

    jobs = Job.objects.filter(schedule__in=schedules, scheduled_for__isnull=False)
    ran = list(jobs.exclude(started_at=None))
    late = sorted((j.started_at - j.scheduled_for).total_seconds() for j in ran)
    reserve = sorted((j.reserved_at - j.scheduled_for).total_seconds() for j in ran if j.reserved_at)
    doubles = jobs.values("schedule", "scheduled_for").annotate(n=Count("id")).filter(n__gt=1).count()
    starts = JobEvent.objects.filter(job__in=jobs, kind="started").values("job").annotate(n=Count("id"))
    doubles += starts.filter(n__gt=1).count()
    missed = 0
    for schedule in schedules:
        times = sorted(jobs.filter(schedule=schedule).values_list("scheduled_for", flat=True))
        if times:
            missed += int((times[-1] - times[0]).total_seconds()) + 1 - len(times)
    by_cluster = dict(jobs.values_list("reserved_by").annotate(n=Count("id")).values_list("reserved_by", "n"))
    return {"lateness": late, "reserve_lateness": reserve, "doubles": doubles, "missed": missed, "firings": len(late),
            "clusters_used": len(by_cluster), "statuses": dict(jobs.values_list("status").annotate(n=Count("id"))
                                                              .values_list("status", "n"))}  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=4, help="schedules firing every second at once")
    parser.add_argument("--seconds", type=float, default=75, help="how long they fire")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--write", action="store_true", help="write the figures to bench/schedule_lateness.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.schedules, args.seconds, Path(args.workdir))))
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.databases.split(","):
            url = standalone.database_url(name, name=PG_NAME, workdir=Path(workdir))
            results[name] = standalone.run_child(__file__, url, "--schedules", str(args.schedules), "--seconds",
                                                 str(args.seconds), "--workdir", workdir)  # fmt: skip
            report(name, results[name])
    if args.write:
        write(results, args)
    return 0 if all(r["doubles"] == 0 and percentile(r["lateness"], 99) < GOAL_SECONDS for r in results.values()) else 1


def _row(result: dict) -> list[str]:
    late, reserve = result["lateness"], result["reserve_lateness"]
    return [f"{result['firings']}", f"{percentile(late, 50) * 1000:.0f}", f"{percentile(late, 99) * 1000:.0f}",
            f"{max(late) * 1000:.0f}", f"{percentile(reserve, 50) * 1000:.0f} / {percentile(reserve, 99) * 1000:.0f}",
            f"{result['doubles']}", f"{result['missed']}", f"{result['clusters_used']}"]  # fmt: skip


def report(name: str, result: dict) -> None:
    firings, p50, p99, worst, reserved, doubles, missed, used = _row(result)
    print(f"{name}: {firings} firings, lateness p50 {p50} ms, p99 {p99} ms, max {worst} ms (reserved p50/p99 "
          f"{reserved} ms); "
          f"double firings {doubles}, missed ticks {missed}, clusters used {used}", flush=True)  # fmt: skip


def write(results: dict, args) -> None:
    """The section: what ran, a row per database, the verdict against the goal."""
    rows = []
    for name, result in results.items():
        cells = _row(result)
        verdict = "PASS" if result["doubles"] == 0 and percentile(result["lateness"], 99) < GOAL_SECONDS else "MISS"
        rows.append(f"| {name} | {' | '.join(cells)} | {verdict} |")
    command = (f".venv/bin/python bench/schedule_lateness.py --schedules {args.schedules} --seconds {args.seconds:g} "
               f"--databases {args.databases} --write")  # fmt: skip
    text = "\n".join([
        TITLE, "",
        f"{args.schedules} schedules firing every second (cron `* * * * * *`, `jobs.noop`) for {args.seconds:g} s, "
        f"run by {CLUSTERS} real `qcluster`s of 2 workers each on one database, production settings. Each firing "
        "is the schedule's planted job, reserved by whichever cluster wakes first; its lateness is the job's "
        "`started_at` (the worker's start) minus its `scheduled_for` (\"reserved\": its `reserved_at`, when a pusher "
        "took it, minus `scheduled_for`). Double firings: (schedule, firing time) "
        "pairs with more than one job, plus jobs started more than once. Missed ticks: seconds between a "
        "schedule's first and last firing with no job. Goal: p99 under 1 s, no double firing. Not part of "
        "`make bench`: run on its own.", "",
        f"**Command:** `{command}`  \n**Date:** {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"**Load average at the end:** {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", "",
        "| database | firings | lateness p50 ms | p99 ms | max ms | reserved p50 / p99 ms | double firings "
        "| missed ticks | clusters used | goal |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows, "",
    ])  # fmt: skip
    standalone.write_section(SECTION, TITLE, text)


if __name__ == "__main__":
    sys.exit(main())
