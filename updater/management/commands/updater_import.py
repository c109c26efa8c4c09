"""Import a feed file as a job, exactly as the API does; --wait follows it with a progress bar."""

import argparse
import json
import time
from pathlib import Path

from django.core.files.base import File
from django.core.management.base import BaseCommand, CommandError

from jobs.api.serializers import JobSerializer
from jobs.exceptions import InvalidJob
from jobs.models import Job
from jobs.selectors import job_get
from updater.exceptions import FeedTooLarge
from updater.services import feed_import_start

POLL_SECONDS = 0.2
BAR_WIDTH = 30


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


class Command(BaseCommand):
    help = "Queue the import of a feed file (CSV or JSON Lines) as an updater.import_feed job."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--wait", action="store_true", help="follow the job to its end; exit 1 unless it succeeds")
        parser.add_argument("--json", action="store_true", help="print the job as JSON (no progress bar)")
        parser.add_argument("--chunk-size", type=positive_int)
        parser.add_argument("--max-rows-per-second", type=positive_int)
        parser.add_argument("--pause-seconds", type=non_negative_float)

    def handle(self, *args, **options) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            with path.open("rb") as stream:
                job = feed_import_start(
                    upload=File(stream, name=path.name),
                    requested_by=None,
                    chunk_size=options["chunk_size"],
                    max_rows_per_second=options["max_rows_per_second"],
                    pause_seconds=options["pause_seconds"],
                )
        except InvalidJob as exc:
            raise CommandError(" ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in exc.errors.items()))
        except FeedTooLarge as exc:
            raise CommandError(str(exc)) from None
        if not options["json"]:
            self.stdout.write(f"job #{job.pk} queued: import of {path.name} (trace {job.trace_id})")
        if options["wait"]:
            job = self.follow(job, bar=not options["json"])
        if options["json"]:
            self.stdout.write(json.dumps(JobSerializer(job).data))
        if options["wait"]:
            self.conclude(job, quiet=options["json"])

    def follow(self, job: Job, *, bar: bool) -> Job:
        """Poll the job until it finishes, drawing its progress (redrawn in place on a terminal)."""
        tty = self.stdout.isatty()
        shown = None
        while True:
            job = job_get(job_id=job.pk)
            line = _bar(job)
            if bar and line != shown:
                self.stdout.write(("\r" + line) if tty else line, ending="" if tty else "\n")
                self.stdout.flush()
                shown = line
            if job.is_finished:
                if bar and tty:
                    self.stdout.write("")
                return job
            time.sleep(POLL_SECONDS)

    def conclude(self, job: Job, *, quiet: bool) -> None:
        if job.status != Job.Status.SUCCEEDED:
            reason = (job.error or {}).get("message") or (job.progress or {}).get("message") or ""
            raise CommandError(f"job #{job.pk} {job.status}" + (f": {reason}" if reason else ""))
        if not quiet:
            r = job.result or {}
            self.stdout.write(
                f"job #{job.pk} succeeded: {r.get('rows', 0):,} rows, {r.get('created', 0):,} created, "
                f"{r.get('updated', 0):,} updated, {r.get('unchanged', 0):,} unchanged, "
                f"{r.get('invalid', 0):,} invalid in {r.get('duration_seconds', 0)} s"
            )


def _bar(job: Job) -> str:
    progress = job.progress or {}
    done, total = progress.get("done") or 0, progress.get("total") or 0
    fraction = min(1.0, done / total) if total else 0.0
    filled = int(fraction * BAR_WIDTH)
    rate = progress.get("rate")
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%} {done:,}/{total:,} rows"
        + (f" {rate:,.0f} rows/s" if rate else "")
        + f" {job.status}"
    )
