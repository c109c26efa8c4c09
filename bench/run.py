"""`make bench` (`make bench QUICK=1`): measure the product against bare django-q2, procrastinate,
Celery and the physical limits, on the local PostgreSQL and Redis, and write docs/BENCHMARKS.md with a chart per
section (QUICK: bench/out/quick/, so rough figures never replace the committed ones). Uses its own PostgreSQL database (`bench`, dropped and created here), Redis db 9 and a
temporary SQLite file, so tests running at the same time are not disturbed.

    .venv/bin/python bench/run.py [--quick] [--sections dbcost,queues,systems,api,scale,updater] [--report-only]"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
SECTIONS = ("dbcost", "queues", "systems", "api", "scale", "updater")  # cheapest first; the updater is the longest
DOCS = BASE_DIR / "docs"
QUICK_DIR = BASE_DIR / "bench" / "out" / "quick"  # rough figures never replace the committed document


def outputs(quick: bool) -> tuple[Path, Path, str]:
    """Where the document and its charts go, and how the document links the charts."""
    if quick:
        return QUICK_DIR / "BENCHMARKS.md", QUICK_DIR, ""
    return DOCS / "BENCHMARKS.md", DOCS / "bench", "bench/"


def ensure_tools() -> None:
    """What a fresh clone lacks: the benchmark's Python packages, and wrk when it can be installed."""
    try:
        installed = importlib.metadata.version("celery")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    try:
        importlib.metadata.version("procrastinate")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != "5.7.0":
        print("installing requirements-bench.txt into the venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(BASE_DIR / "requirements-bench.txt")],
                       check=True)
    if not shutil.which("wrk") and shutil.which("apt-get") and os.geteuid() == 0:
        print("installing wrk (apt-get) ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, timeout=300)
    if not shutil.which("wrk"):
        print("wrk is not available: the API section uses the Python load generator", flush=True)


def machine(versions: dict[str, str]) -> dict[str, str]:
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    packages = ["Django", "django-q2", "djangorestframework", "psycopg", "redis", "gunicorn", "procrastinate", "celery",
                "kombu"]
    from bench import loadgen

    return {
        "CPUs (nproc)": str(os.cpu_count()), "CPU": cpu, "memory": f"{int(memory) / 1024 / 1024:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}", "Python": platform.python_version(),
        "PostgreSQL": versions["postgresql"], "Redis": versions["redis"],
        **{name: importlib.metadata.version(name) for name in packages},
        "load generator": f"wrk {loadgen.wrk_version()}" if loadgen.generator() == "wrk" else "Python threads",
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="under 3 minutes: fewer jobs and runs, rough figures")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite docs/BENCHMARKS.md from docs/bench/results.json")
    args = parser.parse_args(argv)
    if args.report_only:
        from bench import report, targets

        document, charts, link = outputs(args.quick)
        results = json.loads((charts / "results.json").read_text())
        document.write_text(report.render(results, out_dir=charts, link=link))
        print(targets.summary_table(targets.checks(results)))
        return 0
    chosen = [s for s in args.sections.split(",") if s]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")

    ensure_tools()
    from bench import procs, report, targets
    from bench.plan import FULL, QUICK
    from bench.sections import api, dbcost, queues, scale, systems, updater

    plan = QUICK if args.quick else FULL
    try:
        versions = procs.server_versions()
    except Exception as exc:  # noqa: BLE001  (any connection failure: one line, non-zero exit)
        print(f"bench: PostgreSQL ({procs.PG_URL}) and Redis ({procs.REDIS_URL}) must be running: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    mode = "QUICK (rough figures: fewer jobs, one run per side, short load phases)" if plan.quick else "full"
    print(f"bench: {mode}; work files in {procs.WORK}", flush=True)
    procs.postgres_recreate()
    for setup in procs.SETUPS:
        procs.migrate(setup)
    procs.procrastinate_schema()

    modules = {"systems": systems, "dbcost": dbcost, "queues": queues, "api": api, "scale": scale, "updater": updater}
    results: dict = {}
    for name in [s for s in SECTIONS if s in chosen]:
        print(f"\n== {name} ==", flush=True)
        section_start = time.monotonic()
        try:
            results[name] = modules[name].run(plan, lambda line: print(line, flush=True))
        except Exception:  # noqa: BLE001  (one broken section must not lose the others)
            traceback.print_exc()
            print(f"section {name} failed; see the traceback above (logs in {procs.LOGS})", flush=True)
        print(f"   ({time.monotonic() - section_start:.0f} s)", flush=True)

    command = "make bench QUICK=1" if plan.quick else "make bench"
    document, charts, link = outputs(plan.quick)
    kept = _earlier_sections(charts / "results.json", measured=results, mode=mode)
    results["meta"] = {
        "command": f"{command}  (= .venv/bin/python bench/run.py{' --quick' if plan.quick else ''}"
                   f"{' --sections ' + args.sections if args.sections != ','.join(SECTIONS) else ''})",
        "mode": mode, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_min": (time.monotonic() - started) / 60, "machine": machine(versions),
        "kept": kept,
    }  # fmt: skip
    charts.mkdir(parents=True, exist_ok=True)
    (charts / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    document.write_text(report.render(results, out_dir=charts, link=link))
    shutil.rmtree(procs.WORK, ignore_errors=True)

    print(f"\nSummary ({mode}), written to {document.relative_to(BASE_DIR)}:\n")
    print(targets.summary_table(targets.checks(results)))
    print(f"\n{(time.monotonic() - started) / 60:.1f} min")
    return 0


def _earlier_sections(path: Path, *, measured: dict, mode: str) -> dict[str, str]:
    """A run of some sections keeps the other sections of the last run of the same mode (so the
    document stays whole), adding them to `measured`; returns {section: the date it was measured}."""
    if not path.exists():
        return {}
    earlier = json.loads(path.read_text())
    meta = earlier.get("meta", {})
    if meta.get("mode") != mode:
        return {}
    kept = {}
    for name in SECTIONS:
        if name in earlier and name not in measured:
            measured[name] = earlier[name]
            kept[name] = meta.get("kept", {}).get(name, meta.get("date", "earlier"))
    return kept


if __name__ == "__main__":
    sys.exit(main())
