"""Retention: finished jobs and their events go once they are older than the age set for their final
status (JOBS_RETAIN_<STATUS>_SECONDS, counted from finished_at). Active jobs are never touched.

Deletion runs in batches of JOBS_PRUNE_BATCH jobs, each its own short transaction of four statements
(select the ids through `job_status_finished_idx`, delete their events and their dependency links,
delete the jobs), so no lock is held for long and enqueues and claims carry on beside it
(docs/BENCHMARKS.md, "Pruning"). JobEvent and JobDependency are the tables that reference a job; their
FKs are deferred, but they go first anyway. A link to a pruned upstream job is gone with it: a waiting
dependant then waits only for its other dependencies (the pruned one had succeeded), and a cancelled
dependant retried later no longer sees the failure that cancelled it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from jobs.models import Job, JobDependency, JobEvent

logger = logging.getLogger(__name__)

JOB = Job._meta.db_table
EVENT = JobEvent._meta.db_table
LINK = JobDependency._meta.db_table
MAX_BATCH = 10000  # a bigger batch would hold its locks for longer than a claim should wait
RETAIN_SETTINGS = {status.value: f"JOBS_RETAIN_{status.name}_SECONDS" for status in Job.FINISHED}


@dataclass
class PruneReport:
    """What a prune deleted (or, dry, would delete): counts per final status."""

    dry_run: bool
    jobs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RETAIN_SETTINGS, 0))
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RETAIN_SETTINGS, 0))
    batches: int = 0
    longest_batch_seconds: float = 0.0

    @property
    def total_jobs(self) -> int:
        return sum(self.jobs.values())

    @property
    def total_events(self) -> int:
        return sum(self.events.values())

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run, "jobs": self.jobs, "events": self.events, "total_jobs": self.total_jobs,
            "total_events": self.total_events, "batches": self.batches,
            "longest_batch_seconds": round(self.longest_batch_seconds, 4),
        }  # fmt: skip


def job_prune_cutoffs(*, now: datetime | None = None, ages: dict[str, float] | None = None) -> dict[str, datetime]:
    """Per final status, the finished_at before which its jobs go: the settings' ages unless `ages`
    (seconds per status) overrides some of them."""
    now = now or timezone.now()
    ages = ages or {}
    return {
        status: now - timedelta(seconds=ages.get(status, getattr(settings, name)))
        for status, name in RETAIN_SETTINGS.items()
    }


def job_prune(
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    batch: int | None = None,
    ages: dict[str, float] | None = None,
    on_batch: Callable[[int], None] | None = None,
    pause: float | None = None,
) -> PruneReport:
    """Delete finished jobs past their status's retention, and their events, `batch` jobs per
    transaction (default JOBS_PRUNE_BATCH), sleeping `pause` seconds between batches (default
    JOBS_PRUNE_PAUSE_SECONDS). `on_batch(jobs_deleted)` runs between batches (a handler checks for
    cancellation there). `dry_run` counts instead, deleting nothing."""
    batch = settings.JOBS_PRUNE_BATCH if batch is None else batch
    pause = settings.JOBS_PRUNE_PAUSE_SECONDS if pause is None else pause
    if not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"batch must be 1 to {MAX_BATCH}")
    report = PruneReport(dry_run=dry_run)
    for status, cutoff in job_prune_cutoffs(now=now, ages=ages).items():
        if dry_run:
            report.jobs[status] = Job.objects.filter(status=status, finished_at__lt=cutoff).count()
            report.events[status] = JobEvent.objects.filter(job__status=status, job__finished_at__lt=cutoff).count()
        else:
            _prune_status(report, status=status, cutoff=cutoff, batch=batch, pause=pause, on_batch=on_batch)
    if not dry_run:
        logger.info("jobs pruned", extra={"action": "jobs.pruned", "jobs": report.jobs, "events": report.events})
    return report


def _prune_status(report: PruneReport, *, status, cutoff, batch, pause, on_batch) -> None:
    after = None  # each batch starts where the last one ended, not over the index entries it left dead
    while True:
        started = time.monotonic()
        jobs, events, after = _delete_batch(status=status, cutoff=cutoff, after=after, batch=batch)
        report.longest_batch_seconds = max(report.longest_batch_seconds, time.monotonic() - started)
        report.jobs[status] += jobs
        report.events[status] += events
        if not jobs:
            return
        report.batches += 1
        if on_batch is not None:
            on_batch(jobs)
        if jobs < batch:
            return
        if pause:  # leaves the database to enqueues and claims for a while on a small machine
            time.sleep(pause)


def _delete_batch(*, status: str, cutoff: datetime, after: object, batch: int) -> tuple[int, int, object]:
    """One short transaction: up to `batch` of the oldest finished jobs of `status` before `cutoff`
    (and from `after` on), with their events. Returns (jobs, events) deleted and the last finished_at,
    as the database gave it (the next batch's `after`)."""
    at = connection.ops.adapt_datetimefield_value
    since, params = ("", []) if after is None else (" AND finished_at >= %s", [after])
    # PostgreSQL: a row another transaction holds (a retry in flight) is skipped, never waited for;
    # the lock keeps it finished until the DELETE. SQLite's IMMEDIATE transaction serialises writers.
    postgres = connection.vendor == "postgresql"
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, finished_at FROM {JOB} WHERE status = %s AND finished_at < %s{since} "
            f"ORDER BY finished_at LIMIT %s{lock}",
            [status, at(cutoff), *params, batch],
        )
        rows = cursor.fetchall()
        if not rows:
            return 0, 0, after
        ids = [job_id for job_id, _ in rows]
        among, values = ("= ANY(%s)", [ids]) if postgres else (f"IN ({', '.join(['%s'] * len(ids))})", ids)
        cursor.execute(f"DELETE FROM {EVENT} WHERE job_id {among}", values)
        events = cursor.rowcount
        cursor.execute(f"DELETE FROM {LINK} WHERE job_id {among} OR depends_on_id {among}", values * 2)
        cursor.execute(f"DELETE FROM {JOB} WHERE id {among}", values)
        return cursor.rowcount, events, rows[-1][1]
