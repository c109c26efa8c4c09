"""manage.py simulate: the load demonstration. N concurrent clients send M requests through the job
queue, then (feeds) the same load to the synchronous endpoint the product replaces; both are
printed side by side and drawn to a PNG. The load logic lives in updater.loadtest."""

from __future__ import annotations

import argparse
import textwrap
import uuid
from pathlib import Path

from django.core.management.base import CommandError

from updater.loadtest import client as http
from updater.loadtest.explain import explain
from updater.loadtest.phase import PhaseResult, drain, run_phase
from jobs.management import cli
from jobs.models import Job

LIVE_LINE_EVERY = 5  # seconds between progress lines when stderr is not a terminal


def png_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() != ".png":
        raise argparse.ArgumentTypeError(f"{text!r} must end in .png")
    if not path.parent.resolve().is_dir():
        raise argparse.ArgumentTypeError(f"the folder of {text!r} does not exist")
    return path


class Command(cli.JobsCommand):
    help = (
        "Load the running server with concurrent clients: through the job queue, then (feeds) through the "
        "synchronous endpoint; print latency p50/p95/p99, errors, time-outs, jobs and rows/s side by side."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", type=cli.http_url, default="http://127.0.0.1:8000", help="The server.")
        parser.add_argument("--clients", type=cli.positive_int, default=20, help="Concurrent clients (20).")
        # Defaults sized to finish in under five minutes with make run's workers (imports run one at a time).
        parser.add_argument("--requests", type=cli.positive_int, default=100, help="Requests per phase (100).")
        parser.add_argument("--timeout", type=cli.positive_float, default=5.0,
                            help="Client time-out in seconds (5); a time-out counts as an error.")
        parser.add_argument("--mode", choices=["feeds", "jobs"], default="feeds",
                            help="feeds: upload CSV feeds (default); jobs: enqueue jobs.sleep.")
        parser.add_argument("--rows", type=cli.positive_int, default=500, help="Rows per feed (500).")
        parser.add_argument("--sleep", type=cli.non_negative_float, default=0.05, help="jobs.sleep seconds (0.05).")
        parser.add_argument("--token", help="API token (default: the first superuser's, from this database).")
        parser.add_argument("--username", help="Log in as this user (with --password), or use their token.")
        parser.add_argument("--password", help="Password of --username, to log in through the API.")
        parser.add_argument("--sync", action=argparse.BooleanOptionalAction, default=None,
                            help="Also run the synchronous baseline (default: on for feeds; feeds only).")
        parser.add_argument("--chart", type=png_path, default=Path("simulate.png"), help="PNG (simulate.png).")
        parser.add_argument("--no-chart", action="store_true", help="Write no PNG.")
        parser.add_argument("--drain-timeout", type=cli.non_negative_float, default=600.0,
                            help="Seconds to wait for the workers to finish the jobs (600; 0: do not wait).")
        parser.add_argument("--stall", type=cli.positive_float, default=30.0,
                            help="Stop waiting when no job moved for this many seconds (30).")

    def handle(self, **options):
        sync = options["sync"] if options["sync"] is not None else options["mode"] == "feeds"
        if sync and options["mode"] == "jobs":
            raise cli.usage_error("--sync goes with --mode feeds: there is no synchronous endpoint for jobs")
        if options["password"] and not options["username"]:
            raise cli.usage_error("--password needs --username")
        if options["token"] and options["username"]:
            raise cli.usage_error("give --token or --username, not both")
        self.quiet = options["json"]
        self.live = not self.quiet and self.stderr.isatty()
        try:
            results = self.simulate(options, sync=sync)
        except http.LoadTestError as exc:
            raise CommandError(str(exc), returncode=cli.UNAVAILABLE) from None
        except KeyboardInterrupt:
            raise CommandError("Interrupted.", returncode=cli.INTERRUPTED) from None
        chart = None if options["no_chart"] else options["chart"]
        if chart:
            from updater.loadtest.chart import chart_write  # matplotlib is slow to import: only when drawing

            chart_write(results=results, path=chart, title=self.title(options))
        if self.quiet:
            phases = [self.phase_data(result) for result in results]
            return self.write_json(
                {"config": self.config(options, sync), "phases": phases, "chart": str(chart) if chart else None}
            )
        self.report(results, options, chart)

    def simulate(self, options: dict, *, sync: bool) -> list[PhaseResult]:
        api = http.Api(options["url"], timeout=options["timeout"])
        api.token = self.token(api, options)
        run = uuid.uuid4().hex[:6]
        if options["mode"] == "jobs":
            endpoints = [http.jobs_endpoint(sleep=options["sleep"])]
        else:
            endpoints = [http.feeds_endpoint(rows=options["rows"], sync=False, run=run)]
            if sync:
                endpoints.append(http.feeds_endpoint(rows=options["rows"], sync=True, run=run))
        for endpoint in endpoints:  # every endpoint checked before any load
            api.preflight(endpoint.path)
        results = []
        for endpoint in endpoints:
            result = run_phase(api=api, endpoint=endpoint, clients=options["clients"], requests=options["requests"],
                               on_tick=self.tick)
            if endpoint.creates_jobs:
                drain(result, timeout=options["drain_timeout"], stall=options["stall"], on_tick=self.tick)
            self.tick(result, result.finished_seconds, final=True)
            results.append(result)
        return results

    def token(self, api: http.Api, options: dict) -> str:
        if options["token"]:
            return options["token"]
        if options["password"]:
            return http.token_obtain(api, username=options["username"], password=options["password"])
        return http.token_local(username=options["username"])

    def tick(self, result: PhaseResult, elapsed: float, *, final: bool = False) -> None:
        """The live line: on a terminal redrawn each second; in a log every few seconds."""
        if self.quiet:
            return
        errors = result.errors
        line = (
            f"[{result.endpoint.name}] {elapsed:6.1f}s  {len(result.samples)}/{result.requests} answered  "
            f"errors {errors.total()} (time-outs {errors['timeout']})  p95 {cli.seconds(result.latency(95))}"
        )
        if result.endpoint.creates_jobs and result.job_counts:
            c = result.job_counts
            line += f"  jobs {c['queued']} queued, {c['running']} running, {self._finished(c)} done"
        if self.live:
            self.stderr.write(f"\r{line}\x1b[K", style_func=str, ending="\n" if final else "")
            self.stderr.flush()
        elif final or int(elapsed) // LIVE_LINE_EVERY != getattr(self, "_last_line", -1):
            self._last_line = int(elapsed) // LIVE_LINE_EVERY
            self.stderr.write(line, style_func=str)

    @staticmethod
    def _finished(counts: dict) -> int:
        return sum(counts.get(status, 0) for status in Job.FINISHED)

    def title(self, options: dict) -> str:
        what = f"feeds of {options['rows']} rows" if options["mode"] == "feeds" else f"jobs.sleep {options['sleep']} s"
        return (f"{options['clients']} clients, {options['requests']} requests per phase, {what}, "
                f"client time-out {options['timeout']} s")

    def config(self, options: dict, sync: bool) -> dict:
        keys = ("url", "clients", "requests", "timeout", "mode", "rows", "sleep", "drain_timeout")
        return {**{key: options[key] for key in keys}, "sync": sync}

    def phase_data(self, result: PhaseResult) -> dict:
        errors = result.errors
        return {
            "name": result.endpoint.name,
            "path": result.endpoint.path,
            "requests": result.requests,
            "ok": result.ok,
            "errors": errors.total(),
            "timeouts": errors["timeout"],
            "error_kinds": dict(errors),
            "latency_ms": {f"p{p}": _ms(result.latency(p)) for p in (50, 95, 99)},
            "requests_per_second": round(len(result.samples) / result.sent_seconds, 1) if result.sent_seconds else 0,
            "jobs": result.job_counts if result.endpoint.creates_jobs else None,
            "drained": result.drained_seconds is not None if result.endpoint.creates_jobs else None,
            "finished_seconds": round(result.finished_seconds, 3),
            "unit": result.endpoint.unit,
            "units_done": result.units_done,
            "units_per_second": round(result.units_per_second, 1),
        }

    def report(self, results: list[PhaseResult], options: dict, chart: Path | None) -> None:
        data = [self.phase_data(r) for r in results]
        unit = data[0]["unit"]
        rows = [
            ["endpoint", *(f"POST {d['path']}" for d in data)],
            ["requests", *(d["requests"] for d in data)],
            ["answered 2xx", *(d["ok"] for d in data)],
            ["errors", *(d["errors"] for d in data)],
            ["  of which time-outs", *(d["timeouts"] for d in data)],
            *([f"latency {p}", *(f"{d['latency_ms'][p]} ms" for d in data)] for p in ("p50", "p95", "p99")),
            ["requests/s", *(d["requests_per_second"] for d in data)],
            ["jobs queued/running/done", *(self._jobs_cell(d) for d in data)],
            ["work finished after", *(cli.seconds(d["finished_seconds"]) for d in data)],
            [f"{unit} done", *(d["units_done"] for d in data)],
            [f"{unit}/s", *(d["units_per_second"] for d in data)],
        ]
        self.stdout.write(f"\n{self.title(options)}\n")
        self.stdout.write(cli.table(["", *(d["name"] for d in data)], rows))
        for d in data:
            if d["error_kinds"]:
                kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(d["error_kinds"].items(), key=lambda kv: -kv[1]))
                self.stdout.write(f"{d['name']} errors: {kinds}")
            if d["drained"] is False:
                self.stdout.write(f"{d['name']}: the workers had not finished every job when the wait ended "
                                  "(--drain-timeout, or nothing moved for --stall seconds: are the workers running?)")
        paragraph = explain(data, rows=options["rows"], timeout=options["timeout"]) if options["mode"] == "feeds" else ""
        if paragraph:
            self.stdout.write("\n" + textwrap.fill(paragraph, width=100) + "\n")
        if chart:
            self.stdout.write(f"Chart: {chart}")

    @classmethod
    def _jobs_cell(cls, d: dict) -> str:
        if d["jobs"] is None:
            return "-"
        jobs = d["jobs"]
        text = f"{jobs['queued']}/{jobs['running']}/{cls._finished(jobs)}"
        return text + (f" ({jobs['failed']} failed)" if jobs["failed"] else "")


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 1) if seconds is not None else None
