"""The one progress bar of every `--wait` (`jobs_enqueue --wait`, `updater_import --wait`): a line per job
with its bar, rate and time left, and `follow`, the poll loop that draws it."""

from __future__ import annotations

import time

from django.core.management.base import OutputWrapper
from django.utils import timezone

from jobs import selectors
from jobs.formatting import duration
from jobs.models import Job


def progress_text(progress: dict) -> str:
    done, total = progress.get("done"), progress.get("total")
    if done is None:
        return ""
    return f"{done:,}/{total:,} ({100 * done // total}%)" if total else f"{done:,}"


class ProgressBar:
    """One line about a job. On a terminal it redraws in place; elsewhere (a log, a pipe) it writes a
    new line only when the status or the progress changed, so logs stay short.

    The rate is the handler's own (`progress["rate"]`) when it reports one, else what this bar saw
    since the job's first progress; the time left is the work left at that rate."""

    WIDTH = 24

    def __init__(self, stream: OutputWrapper):
        self.stream = stream
        self.live = stream.isatty()
        self.last, self.last_key = "", None
        self.first: tuple[float, int] | None = None  # (monotonic seconds, done) at the first progress seen

    def update(self, job: Job) -> None:
        line = self.render(job)
        if self.live:
            self.stream.write(f"\r{line}\x1b[K", style_func=str, ending="")  # stderr's default style is red
            self.stream.flush()
        elif self.key(job) != self.last_key:  # the rate and the time left change on every poll
            self.stream.write(line, style_func=str)
        self.last, self.last_key = line, self.key(job)

    @staticmethod
    def key(job: Job) -> tuple:
        progress = job.progress or {}
        return job.status, progress.get("done"), progress.get("total"), progress.get("message")

    def close(self) -> None:
        if self.live and self.last:
            self.stream.write("", style_func=str)

    def render(self, job: Job) -> str:
        head = f"#{job.pk} {job.handler} {job.status}"
        now = timezone.now()
        if job.status == Job.Status.QUEUED and job.run_after > now:
            return f"{head} (attempt {job.attempts + 1}/{job.max_attempts} due in {duration(job.run_after - now)})"
        if job.status == Job.Status.WAITING:
            return f"{head} (waiting for the jobs it depends on)"
        if job.status == Job.Status.QUEUED:
            waited = now - max(job.run_after, job.created_at)
            return f"{head} (attempt {job.attempts + 1}/{job.max_attempts}, waiting {duration(waited)} for a worker)"
        progress = job.progress or {}
        done, total = progress.get("done"), progress.get("total")
        bar = ""
        if done is not None and total:
            filled = min(self.WIDTH, self.WIDTH * done // total)
            bar = f" [{'#' * filled}{'-' * (self.WIDTH - filled)}] {progress_text(progress)}"
        elif done is not None:
            bar = f" {done:,} done"
        pace = "" if job.is_finished else self.pace(progress)
        return f"{head}{bar}{pace} {progress.get('message') or ''}".rstrip()

    def pace(self, progress: dict) -> str:
        """' 1,200/s, 42s left': the rate, and the time left when the total is known."""
        done, total = progress.get("done"), progress.get("total")
        if done is None:
            return ""
        now = time.monotonic()
        if self.first is None:
            self.first = (now, done)
        rate = progress.get("rate")
        if not rate and now > self.first[0] and done > self.first[1]:
            rate = (done - self.first[1]) / (now - self.first[0])
        if not rate:
            return ""
        text = f" {rate:,.0f}/s" if rate >= 100 else f" {rate:.1f}/s"
        if total and total > done:
            text += f", {duration((total - done) / rate)} left"
        return text


def follow(job: Job, *, stream: OutputWrapper | None, poll: float) -> Job:
    """Poll the job until it is finished, drawing its bar on `stream` (None: draw nothing). Ctrl-C
    (KeyboardInterrupt) stops the waiting, not the job, and propagates."""
    bar = ProgressBar(stream) if stream is not None else None
    try:
        while True:
            job = selectors.job_get(job_id=job.pk)
            if bar:
                bar.update(job)
            if job.is_finished:
                return job
            time.sleep(poll)
    finally:
        if bar:
            bar.close()
