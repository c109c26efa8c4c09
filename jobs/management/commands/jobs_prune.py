"""manage.py jobs_prune [--dry-run] [--batch N]: delete finished jobs past their retention, with their events."""

from __future__ import annotations

import argparse

from django.utils import timezone

from jobs import services
from jobs.management import cli
from jobs.services.retention import MAX_BATCH, RETAIN_SETTINGS


def batch_size(text: str) -> int:
    value = cli.positive_int(text)
    if value > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"must be {MAX_BATCH} or less, not {value}")
    return value


class Command(cli.JobsCommand):
    help = (
        "Delete finished jobs older than their status's retention (JOBS_RETAIN_<STATUS>_SECONDS, from "
        "finished_at) and their events, in batches of --batch jobs per transaction (default JOBS_PRUNE_BATCH), "
        "--pause seconds apart; "
        "queued, reserved and running jobs are never touched. Prints the count per status. Safe beside running "
        "clusters."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")
        parser.add_argument("--batch", type=batch_size, metavar="N", help=f"Jobs per transaction (1 to {MAX_BATCH}).")
        parser.add_argument("--pause", type=cli.non_negative_float, metavar="SECONDS",
                            help="Sleep between batches (default JOBS_PRUNE_PAUSE_SECONDS).")  # fmt: skip

    def handle(self, *, dry_run, batch, pause, json, **options) -> None:
        now = timezone.now()
        report = services.job_prune(dry_run=dry_run, batch=batch, pause=pause, now=now)
        if json:
            return self.write_json(report.as_dict())
        cutoffs = services.job_prune_cutoffs(now=now)
        verb = "would delete" if dry_run else "deleted"
        for status in RETAIN_SETTINGS:
            self.stdout.write(f"{status}: {verb} {report.jobs[status]} jobs, {report.events[status]} events "
                              f"(finished before {cli.when(cutoffs[status])})")  # fmt: skip
        total = f"{report.total_jobs} jobs and {report.total_events} events"
        self.stdout.write(f"Would delete {total}; nothing changed (--dry-run)." if dry_run else f"Deleted {total}.")
