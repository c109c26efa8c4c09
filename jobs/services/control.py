"""What an operator or a client does to a job: cancel and retry, one at a time or in bulk."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from jobs.exceptions import DuplicateJob, JobError, JobNotFound, JobStateConflict, PermissionDenied
from jobs.models import Job, JobEvent
from jobs.services.dependencies import job_dependants_cancel, job_dependencies_retry
from jobs.services.wakeup import notify_queue, notify_queues
from jobs.permissions import job_check, job_may, job_may_see_all, jobs_visible


NOT_STARTED = (Job.Status.WAITING, Job.Status.QUEUED, Job.Status.RESERVED)


@transaction.atomic
def job_cancel(*, job: Job, by=None) -> Job:
    """A WAITING, QUEUED or RESERVED (not yet started) job is CANCELLED at once and never runs, and so
    are the jobs waiting for it; a RUNNING one is asked to stop and ends CANCELLED at its next
    cancellation check (idempotent). Raises JobStateConflict once finished, JobNotFound or
    PermissionDenied when `by` may not (jobs.permissions)."""
    job_check(user=by, action="cancel", job=job)
    now = timezone.now()
    actor = _actor(by)
    if Job.objects.filter(pk=job.pk, status__in=NOT_STARTED).update(status=Job.Status.CANCELLED, finished_at=now):
        JobEvent.objects.create(job=job, at=now, kind=JobEvent.Kind.CANCELLED, attempt=job.attempts, actor=actor)
        job.refresh_from_db()
        if job.has_dependants:
            job_dependants_cancel(ended={job.pk: Job.Status.CANCELLED})
        return job
    elif Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, cancel_requested_at__isnull=True).update(
        cancel_requested_at=now
    ):
        JobEvent.objects.create(
            job=job, at=now, kind=JobEvent.Kind.CANCEL_REQUESTED, attempt=job.attempts, actor=actor
        )
    else:
        job.refresh_from_db()
        if job.status != Job.Status.RUNNING:  # a running job already asked to stop: idempotent
            raise JobStateConflict(f"Job #{job.pk} is {job.status} and cannot be cancelled.")
        return job
    job.refresh_from_db()
    return job


@transaction.atomic
def job_retry(*, job: Job, by=None) -> Job:
    """Queue a FAILED, CANCELLED or EXPIRED job again with fresh attempts and no deadline, keeping its
    history; a job with dependencies WAITS again unless they all succeeded. Raises JobStateConflict
    otherwise, or when one of its dependencies failed, was cancelled or expired (retry that one first),
    DuplicateJob if another active job took its unique key, JobNotFound or PermissionDenied when `by`
    may not (jobs.permissions). The jobs that depended on it stay as they are."""
    job_check(user=by, action="retry", job=job)
    now = timezone.now()
    status = job_dependencies_retry(job=job) if job.status in Job.RETRYABLE else Job.Status.QUEUED
    try:
        with transaction.atomic():
            retried = Job.objects.filter(pk=job.pk, status__in=Job.RETRYABLE).update(
                status=status,
                attempts=0,
                run_after=now,
                deadline=None,
                reserved_by="",
                cancel_requested_at=None,
                result=None,
                error=None,
                progress={},
                worker="",
                started_at=None,
                finished_at=None,
            )
    except IntegrityError:
        raise DuplicateJob(
            f"Another active job holds the unique key {job.unique_key!r}.", existing_id=_holder(job)
        ) from None
    job.refresh_from_db()
    if not retried:
        raise JobStateConflict(f"Job #{job.pk} is {job.status}; only failed, cancelled or expired jobs can be retried.")
    JobEvent.objects.create(job=job, at=now, kind=JobEvent.Kind.RETRIED, actor=_actor(by))
    if status == Job.Status.QUEUED:
        notify_queue(job.queue)
    return job


def _holder(job: Job) -> int:
    return Job.objects.active().filter(unique_key=job.unique_key).values_list("pk", flat=True).first() or 0


def _actor(by):
    return by if by is not None and by.is_authenticated else None


@dataclass
class BulkOutcome:
    """What a bulk action did: how many jobs it changed, and why it skipped the others."""

    done: int = 0
    skipped: Counter = field(default_factory=Counter)
    matched: int | None = None  # by filter: how many jobs matched, of which at most the limit were tried

    def summary(self, verb: str) -> str:
        text = f"{verb} {self.done} job{'s' if self.done != 1 else ''}"
        if self.skipped:
            text += "; skipped " + ", ".join(f"{n} ({reason})" for reason, n in self.skipped.most_common())
        return text + "."


def _many(action, jobs, by) -> BulkOutcome:
    outcome = BulkOutcome()
    for job in jobs:
        try:
            action(job=job, by=by)
            outcome.done += 1
        except (JobError, PermissionDenied) as exc:
            outcome.skipped[_reason(exc, job)] += 1
    return outcome


def _reason(exc: Exception, job: Job) -> str:
    if isinstance(exc, PermissionDenied):
        return "not allowed"
    if isinstance(exc, JobNotFound):
        return "not found"
    return "unique key taken" if isinstance(exc, DuplicateJob) else f"already {job.status}"


def job_cancel_many(*, jobs, by=None) -> BulkOutcome:
    """Cancel each job that allows it; count the others by reason."""
    return _many(job_cancel, jobs, by)


def job_retry_many(*, jobs, by=None) -> BulkOutcome:
    """Retry each failed or cancelled job; count the others by reason."""
    return _many(job_retry, jobs, by)


def job_retry_matching(*, jobs: QuerySet[Job], by=None, limit: int) -> BulkOutcome:
    """Retry the failed, cancelled or expired jobs among `jobs` that `by` may see, oldest first and at
    most `limit` of them; `matched` counts them all. Raises PermissionDenied when `by` sees every job
    but lacks jobs.retry_job (an owner acts on their own jobs); the others are counted as `job_retry_many`."""
    return _matching("retry", jobs, by, limit)


def job_cancel_matching(*, jobs: QuerySet[Job], by=None, limit: int) -> BulkOutcome:
    """Cancel the queued, reserved or running (not yet asked to stop) jobs among `jobs`, as
    `job_retry_matching` retries, with jobs.cancel_job."""
    return _matching("cancel", jobs, by, limit)


def job_bulk_candidates(*, action: str, jobs: QuerySet[Job], by=None) -> QuerySet[Job]:
    """The jobs among `jobs` that a bulk `action` ("retry" or "cancel") by `by` would try: those `by`
    may see, in a state the action takes. Raises PermissionDenied as `job_retry_matching` does."""
    if by is not None and (not by.is_authenticated or (job_may_see_all(by) and not job_may(by, action))):
        raise PermissionDenied(f"You do not have permission to {action} jobs.")
    if action == "retry":
        jobs = jobs.filter(status__in=Job.RETRYABLE)
    else:
        jobs = jobs.filter(status__in=Job.ACTIVE).exclude(status=Job.Status.RUNNING, cancel_requested_at__isnull=False)
    return jobs_visible(jobs, user=by)


MATCHING_CHUNK = 500  # jobs per transaction: one commit per chunk, not per job, and row locks held briefly


def _matching(action: str, jobs: QuerySet[Job], by, limit: int) -> BulkOutcome:
    jobs = job_bulk_candidates(action=action, jobs=jobs, by=by)
    outcome = BulkOutcome(matched=jobs.count())
    ids = list(jobs.order_by("id").values_list("pk", flat=True)[:limit])
    chunk = _retry_chunk if action == "retry" else _cancel_chunk
    for start in range(0, len(ids), MATCHING_CHUNK):
        part = chunk(ids[start : start + MATCHING_CHUNK], by)
        outcome.done += part.done
        outcome.skipped.update(part.skipped)
    return outcome


# The chunks act set-based on jobs `job_bulk_candidates` found, so `by` may act on each (it sees them, and
# either owns them or holds the permission). They lock the rows still in a state the action takes, change
# them with one UPDATE and record the events with one INSERT, as `job_retry` / `job_cancel` would one by one.


def _retry_chunk(ids: list[int], by) -> BulkOutcome:
    now = timezone.now()
    try:
        with transaction.atomic():
            # Jobs with dependencies are retried one by one (below): their new status depends on them.
            retryable = Job.objects.filter(pk__in=ids, status__in=Job.RETRYABLE)
            linked = set(retryable.filter(upstream_links__isnull=False).values_list("pk", flat=True).distinct())
            rows = list(retryable.exclude(pk__in=linked).select_for_update().values_list("pk", "queue"))
            Job.objects.filter(pk__in=[pk for pk, _ in rows]).update(
                status=Job.Status.QUEUED, attempts=0, run_after=now, deadline=None, reserved_by="",
                cancel_requested_at=None, result=None, error=None, progress={}, worker="", started_at=None,
                finished_at=None,
            )  # fmt: skip
            JobEvent.objects.bulk_create(
                [JobEvent(job_id=pk, at=now, kind=JobEvent.Kind.RETRIED, actor=_actor(by)) for pk, _ in rows]
            )
            notify_queues(sorted({queue for _, queue in rows}))
    except IntegrityError:  # an active job holds one of their unique keys: one by one, to name which
        with transaction.atomic():
            return job_retry_many(jobs=Job.objects.filter(pk__in=ids).order_by("id"), by=by)
    if not linked:
        return _rest(ids, done={pk for pk, _ in rows})
    outcome = job_retry_many(jobs=Job.objects.filter(pk__in=linked).order_by("id"), by=by)
    rest = _rest([pk for pk in ids if pk not in linked], done={pk for pk, _ in rows})
    rest.done += outcome.done
    rest.skipped.update(outcome.skipped)
    return rest


def _cancel_chunk(ids: list[int], by) -> BulkOutcome:
    now = timezone.now()
    with transaction.atomic():
        locked = Job.objects.select_for_update().filter(pk__in=ids)
        stop = list(locked.filter(status__in=NOT_STARTED).values_list("pk", "attempts", "has_dependants"))
        ask = list(locked.filter(status=Job.Status.RUNNING, cancel_requested_at__isnull=True).values_list("pk", "attempts"))
        Job.objects.filter(pk__in=[pk for pk, _, _ in stop]).update(status=Job.Status.CANCELLED, finished_at=now)
        Job.objects.filter(pk__in=[pk for pk, _ in ask]).update(cancel_requested_at=now)
        events = [(pk, attempts, JobEvent.Kind.CANCELLED) for pk, attempts, _ in stop]
        events += [(pk, attempts, JobEvent.Kind.CANCEL_REQUESTED) for pk, attempts in ask]
        JobEvent.objects.bulk_create(
            [JobEvent(job_id=pk, at=now, kind=kind, attempt=attempts, actor=_actor(by)) for pk, attempts, kind in events]
        )
        job_dependants_cancel(ended={pk: Job.Status.CANCELLED for pk, _, has_dependants in stop if has_dependants})
    return _rest(ids, done={pk for pk, _, _ in events})


def _rest(ids: list[int], *, done: set[int]) -> BulkOutcome:
    """The outcome of a chunk: what was done, and why not the others (their state changed meanwhile)."""
    outcome = BulkOutcome(done=len(done))
    rest = [pk for pk in ids if pk not in done]
    statuses = dict(Job.objects.filter(pk__in=rest).values_list("pk", "status"))
    for pk in rest:
        outcome.skipped[f"already {statuses[pk]}" if pk in statuses else "not found"] += 1
    return outcome
