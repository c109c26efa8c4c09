"""Benchmark of the feed import on PostgreSQL, in one run (issue 3):

  (a) our import: `feed_import_start` then `runner.run` of the job in a child process, as a worker
      runs it (streaming, validation, chunked upserts, progress); its peak RSS is the child's;
  (b) the floor: a raw COPY of the same file into a temporary table, then one
      INSERT ... ON CONFLICT DO UPDATE ... WHERE IS DISTINCT FROM (no validation, no chunks);
  (c) the naive way: a per-row `update_or_create` loop, on an evenly spread sample of the feed;
  (d) once: the upload of the feed file through the API to a gunicorn worker, whose peak RSS shows
      that the body is streamed to disk, not read into memory.

Each measurement starts from the same catalogue (half of the feed's skus, reloaded before every
measurement); the feed then creates half its rows, updates a tenth of the rest and leaves the
others unchanged. Sides alternate, every run measures all three, figures are medians.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/updater_bench python bench/updater_bench.py [--rows N] [--quick]

It works in a database of its own: DATABASE_URL's name if that contains "bench", else that name
with "_bench" appended (created when missing); its catalogue is emptied and reloaded. The result
is printed and written to bench/out/updater.json."""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGETS = {"import_vs_copy": 0.5, "import_vs_per_row": 20.0, "peak_rss_mb": 200.0}
COLUMNS = "sku, name, price, currency, stock, active"
UPSERT = (
    f"INSERT INTO updater_product AS p ({COLUMNS}, created_at, updated_at) "
    f"SELECT {COLUMNS}, now(), now() FROM incoming "
    "ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price, "
    "currency = EXCLUDED.currency, stock = EXCLUDED.stock, active = EXCLUDED.active, updated_at = EXCLUDED.updated_at "
    "WHERE (p.name, p.price, p.currency, p.stock, p.active) IS DISTINCT FROM "
    "(EXCLUDED.name, EXCLUDED.price, EXCLUDED.currency, EXCLUDED.stock, EXCLUDED.active)"
)


def main(argv: list[str] | None = None) -> dict:
    args = _parse(argv)
    if args.child_job:
        return _child(args.child_job)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("updater_bench: set DATABASE_URL to a PostgreSQL server (the benchmark measures COPY).", file=sys.stderr)
        return {"skipped": "DATABASE_URL is not PostgreSQL"}
    work = Path(tempfile.mkdtemp(prefix="updater_bench_", dir=args.tmp))
    try:
        _setup_django(_bench_database(url), media=work / "media")
        return _bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the feed (1,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (3)")
    parser.add_argument("--per-row-rows", type=int, default=20_000, help="sample of the per-row loop (20,000)")
    parser.add_argument("--chunk-size", type=int, default=None, help="the import's chunk size (settings)")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 1 run, a 2,000-row per-row sample")
    parser.add_argument("--tmp", default=None, help="where to write the feed files (system temp)")
    parser.add_argument("--out", type=Path, default=OUT / "updater.json")
    parser.add_argument("--child-job", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.runs, args.per_row_rows = 100_000, 1, 2_000
    return args


def _bench_database(url: str) -> str:
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    name = name.split("?")[0] or "postgres"
    target = name if "bench" in name else f"{name}_bench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))
    return f"{base}/{target}"


def _setup_django(url: str, *, media: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ.pop("REDIS_URL", None)  # nothing of the import goes through Redis
    os.environ["DJANGO_DEBUG"] = "0"  # measured as production runs (a .env may turn DEBUG on)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEF")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _bench(args, work: Path) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    feed_path, base_path, sample = _write_feeds(args, work)
    args.per_row_rows = len(sample)
    results: dict[str, list] = {"import": [], "copy": [], "per_row": [], "rss_mb": [], "load": []}
    for run in range(args.runs):
        sides = ["import", "copy"] if run % 2 == 0 else ["copy", "import"]
        for side in [*sides, "per_row"]:
            _reset_catalogue(base_path)
            if side == "import":
                rate, rss = _measure_import(feed_path, args)
                results["rss_mb"].append(rss)
            elif side == "copy":
                rate = _measure_copy(feed_path, args.rows)
            else:
                rate = _measure_per_row(sample)
            results[side].append(rate)
            results["load"].append(os.getloadavg()[0])
            print(f"run {run + 1}/{args.runs} {side:8} {rate:12,.0f} rows/s", flush=True)
    results["upload"] = _measure_upload(feed_path)
    report = _report(args, results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    _print(report, args.out)
    return report


def _write_feeds(args, work: Path) -> tuple[Path, Path, list[dict]]:
    """The feed (all valid, so that COPY can take it too), the catalogue it starts from, and an
    evenly spread sample of its rows for the per-row loop."""
    from updater.feedgen import demo_feed_write, demo_rows

    feed_path, base_path = work / "feed.csv", work / "base.csv"
    with feed_path.open("w", newline="") as out:
        demo_feed_write(out, rows=args.rows, seed=1, invalid_percent=0, changed_percent=10)
    with base_path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        for row, _ in demo_rows(rows=args.rows // 2, seed=0, invalid_percent=0, changed_percent=0):
            writer.writerow(row.values())
    step = max(1, args.rows // args.per_row_rows)
    with feed_path.open(newline="") as stream:
        sample = [row for n, row in enumerate(csv.DictReader(stream)) if n % step == 0][: args.per_row_rows]
    return feed_path, base_path, sample


def _reset_catalogue(base_path: Path) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE updater_product RESTART IDENTITY")
        with base_path.open("rb") as stream, cursor.cursor.copy(
            f"COPY updater_product ({COLUMNS}) FROM STDIN (FORMAT csv)"
        ) as copy:
            while data := stream.read(1 << 20):
                copy.write(data)
        cursor.execute("VACUUM ANALYZE updater_product")
        cursor.execute("CHECKPOINT")  # each side starts without the previous one's dirty pages


def _measure_import(feed_path: Path, args) -> tuple[float, float]:
    """Rows/s and peak RSS (MB) of a worker process running the import job."""
    from django.core.files.base import File

    from updater.models import Feed
    from updater.services import feed_import_start

    with feed_path.open("rb") as stream:
        job = feed_import_start(upload=File(stream, name="feed.csv"), requested_by=None, chunk_size=args.chunk_size)
    child = subprocess.run(
        [sys.executable, __file__, "--child-job", str(job.pk)], capture_output=True, text=True, env=os.environ
    )
    job.refresh_from_db()
    Feed.objects.get(pk=job.args["feed_id"]).file.delete()  # a stored copy per run adds up
    if child.returncode != 0:
        raise RuntimeError(f"import child failed: {child.stderr[-2000:]}")
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    if measured["status"] != "succeeded" or measured["result"]["rows"] != args.rows:
        raise RuntimeError(f"import did not complete: {measured}")
    return args.rows / measured["seconds"], measured["peak_rss_kb"] / 1024


def _child(job_id: int) -> dict:
    """In the child: run the job as a worker would, then report time and peak memory."""
    _setup_django(os.environ["DATABASE_URL"], media=Path(os.environ["MEDIA_ROOT"]))
    from jobs import runner
    from jobs.models import Job

    started = time.perf_counter()
    runner.run(job_id)
    seconds = time.perf_counter() - started
    job = Job.objects.get(pk=job_id)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    measured = {"status": job.status, "seconds": seconds, "peak_rss_kb": peak, "result": job.result}
    print(json.dumps(measured, default=str))
    return measured


def _measure_copy(feed_path: Path, rows: int) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE incoming (sku varchar(64), name varchar(255), price numeric(12, 2), "
            "currency varchar(3), stock integer, active boolean) ON COMMIT DROP"
        )
        with feed_path.open("rb") as stream, cursor.cursor.copy(
            f"COPY incoming ({COLUMNS}) FROM STDIN (FORMAT csv, HEADER true)"
        ) as copy:
            while data := stream.read(1 << 20):
                copy.write(data)
        cursor.execute(UPSERT)
    return rows / (time.perf_counter() - started)


def _measure_per_row(sample: list[dict]) -> float:
    from updater.models import Product
    from updater.rows import row_clean

    started = time.perf_counter()
    for values in sample:
        row, _ = row_clean(values)
        Product.objects.update_or_create(sku=row.pop("sku"), defaults=row)
    return len(sample) / (time.perf_counter() - started)


def _measure_upload(feed_path: Path) -> dict:
    """POST the feed to /api/v1/updates/ on a real gunicorn worker, streaming the multipart body
    from disk; returns the answer's status and seconds, and the worker's peak RSS (MB)."""
    import http.client
    import socket

    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from updater.models import Feed

    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get_or_create(username="updater-bench")[0])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "-t", "600"]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ, stderr=subprocess.DEVNULL)
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="feed.csv"\r\n\r\n'
    size = len(head) + feed_path.stat().st_size + len(b"\r\n--b--\r\n")
    try:
        _wait_for_port(port)
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        headers = {"Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(size)}
        conn.request("POST", "/api/v1/updates/", _body(head, feed_path), {**headers, "Authorization": f"Token {token.key}"})
        status, seconds = conn.getresponse().status, time.perf_counter() - started
        peak_kb = _worker_peak_rss_kb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for feed in Feed.objects.all():
        feed.file.delete()
    return {"status": status, "seconds": round(seconds, 2), "body_mb": round(size / 2**20, 1), "peak_rss_mb": round(peak_kb / 1024, 1)}


def _wait_for_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def _body(head: bytes, path: Path):
    yield head
    with path.open("rb") as stream:
        while data := stream.read(1 << 20):
            yield data
    yield b"\r\n--b--\r\n"


def _worker_peak_rss_kb(master: int) -> int:
    """Peak RSS (VmHWM) of the processes gunicorn's master started."""
    peaks = [0]
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                peaks.append(int((proc / "status").read_text().split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
    return max(peaks)


def _report(args, results: dict) -> dict:
    from django.db import connection

    sides = ("import", "copy", "per_row")
    medians = {side: statistics.median(results[side]) for side in sides}
    peak = max(results["rss_mb"])
    ratios = {"import_vs_copy": medians["import"] / medians["copy"], "import_vs_per_row": medians["import"] / medians["per_row"]}
    measured = {**ratios, "peak_rss_mb": peak}
    return {
        "benchmark": "updater",
        "rows": args.rows,
        "per_row_rows": args.per_row_rows,
        "runs": args.runs,
        "rows_per_second": {side: round(value) for side, value in medians.items()},
        "runs_rows_per_second": {side: [round(v) for v in results[side]] for side in sides},
        "peak_rss_mb": round(peak, 1),
        "upload": results["upload"],
        "ratios": {name: round(value, 2) for name, value in ratios.items()},
        "targets": TARGETS,
        "passed": {
            name: measured[name] < target if name == "peak_rss_mb" else measured[name] >= target
            for name, target in TARGETS.items()
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": connection.connection.info.parameter_status("server_version"),
            # Other work on the machine skews every figure: the 1-minute load seen at each measurement.
            "load_average": {"mean": round(statistics.mean(results["load"]), 2), "max": round(max(results["load"]), 2)},
        },
    }


def _print(report: dict, path: Path) -> None:
    rates, ratios, ok = report["rows_per_second"], report["ratios"], report["passed"]
    upload, load = report["upload"], report["machine"]["load_average"]
    verdict = {True: "ok", False: "MISSED"}
    print(
        f"\nfeed of {report['rows']:,} rows, median of {report['runs']} run(s), load average {load['mean']} (max {load['max']})\n"
        f"  (a) import job        {rates['import']:>10,} rows/s   worker peak RSS {report['peak_rss_mb']} MB\n"
        f"  (b) COPY + upsert     {rates['copy']:>10,} rows/s\n"
        f"  (c) update_or_create  {rates['per_row']:>10,} rows/s   ({report['per_row_rows']:,}-row sample)\n"
        f"  (d) API upload of the {upload['body_mb']} MB feed: {upload['status']} in {upload['seconds']} s, "
        f"web worker peak RSS {upload['peak_rss_mb']} MB\n"
        f"  import / COPY    = {ratios['import_vs_copy']:.2f}   (target >= 0.5) {verdict[ok['import_vs_copy']]}\n"
        f"  import / per-row = {ratios['import_vs_per_row']:.1f}  (target >= 20)  {verdict[ok['import_vs_per_row']]}\n"
        f"  peak RSS         = {report['peak_rss_mb']} MB (target < 200) {verdict[ok['peak_rss_mb']]}\n"
        f"written to {path}"
    )


if __name__ == "__main__":
    outcome = main()
    sys.exit(0 if "skipped" not in outcome else 2)
