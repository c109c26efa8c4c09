"""Import a feed file as a job, exactly as the API does; --wait follows it with the shared progress bar."""

from __future__ import annotations

from pathlib import Path

from django.core.files.base import File
from django.core.management.base import CommandError

from jobs.api.serializers import JobSerializer
from jobs.exceptions import InvalidJob
from jobs.management import cli, progress
from jobs.models import Job
from updater.exceptions import FeedTooLarge
from updater.services import feed_import_start

POLL_SECONDS = 0.2


class Command(cli.JobsCommand):
    help = (
        "Queue the import of a feed file (CSV or JSON Lines) as an updater.import_feed job. With --wait, "
        "follow it with a progress bar (on stderr) and exit 0 if it succeeded, 1 if it failed, 2 if it was cancelled."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--wait", action="store_true", help="Follow the job to its end.")
        # Parsed here, checked against their ranges by the service (the one place that knows them).
        parser.add_argument("--chunk-size", type=cli.integer, help="Rows per chunk.")
        parser.add_argument("--max-rows-per-second", type=cli.integer, help="Throttle; 0 means none.")
        parser.add_argument("--pause-seconds", type=cli.number, help="Pause between chunks.")

    def handle(self, *, path: Path, wait: bool, json: bool, **options) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=cli.INVALID)
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
            raise cli.Failure(cli.field_errors(exc.errors), returncode=cli.INVALID, fields=exc.errors) from None
        except FeedTooLarge as exc:
            raise CommandError(str(exc), returncode=cli.INVALID) from None
        if not json:
            self.stdout.write(f"job #{job.pk} queued: import of {path.name} (trace {job.trace_id})")
        if wait:
            try:
                job = progress.follow(job, stream=None if json else self.stderr, poll=POLL_SECONDS)
            except KeyboardInterrupt:
                raise CommandError(f"Stopped waiting; job #{job.pk} goes on (follow it with jobs_show {job.pk}).",
                                   returncode=cli.INTERRUPTED) from None  # fmt: skip
        if json:
            self.write_json(JobSerializer(job).data)
        if wait:
            self.conclude(job, quiet=json)

    def conclude(self, job: Job, *, quiet: bool) -> None:
        """The import's summary, or why it did not succeed (with exit code 1 or 2): an outcome, not an error."""
        if job.status != Job.Status.SUCCEEDED:
            reason = (job.error or {}).get("message") or (job.progress or {}).get("message") or ""
            self.stderr.write(f"job #{job.pk} {job.status}" + (f": {reason}" if reason else ""))
            self.exit_code = cli.FAILED if job.status == Job.Status.FAILED else cli.CANCELLED
        elif not quiet:
            r = job.result or {}
            self.stdout.write(
                f"job #{job.pk} succeeded: {r.get('rows', 0):,} rows, {r.get('created', 0):,} created, "
                f"{r.get('updated', 0):,} updated, {r.get('unchanged', 0):,} unchanged, "
                f"{r.get('invalid', 0):,} invalid in {r.get('duration_seconds', 0)} s"
            )
