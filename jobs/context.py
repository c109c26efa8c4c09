"""JobContext: the one object a handler receives."""

from __future__ import annotations

import time

from jobs.exceptions import JobCancelled
from jobs.models import Job
from jobs.services import job_log, job_report_progress

CANCEL_CHECK_SECONDS = 0.5  # a tight loop may call cancel checks freely: the row is read at most this often


class JobContext:
    def __init__(self, job: Job):
        self.job = job
        self._done = 0
        self._total: int | None = None
        self._started = time.monotonic()
        self._checked_at = 0.0
        self._cancelled = False

    @property
    def job_id(self) -> int:
        return self.job.pk

    @property
    def attempt(self) -> int:
        return self.job.attempts

    @property
    def trace_id(self) -> str:
        return self.job.trace_id

    def progress(self, *, done: int, total: int | None = None, message: str = "") -> None:
        """Record how far the job got (`done` of `total` units) and the rate since the attempt began."""
        self._done = done
        self._total = total if total is not None else self._total
        elapsed = time.monotonic() - self._started
        rate = done / elapsed if elapsed > 0 else None
        job_report_progress(job=self.job, done=done, total=self._total, message=message, rate=rate)

    def advance(self, units: int, *, message: str = "") -> None:
        self.progress(done=self._done + units, message=message)

    def log(self, message: str) -> None:
        """Append a line to the job's history, shown on its page."""
        job_log(job=self.job, message=message)

    @property
    def cancel_requested(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._checked_at >= CANCEL_CHECK_SECONDS:
            self._checked_at = now
            self._cancelled = Job.objects.filter(pk=self.job.pk, cancel_requested_at__isnull=False).exists()
        return self._cancelled

    def raise_if_cancelled(self) -> None:
        """Call between units of work: raises JobCancelled once a cancel was requested."""
        if self.cancel_requested:
            raise JobCancelled()
