from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs import runner
from jobs.admission import job_admit
from jobs.exceptions import DuplicateJob, InvalidJob
from jobs.models import Job
from jobs.registry import get_handler
from jobs.tracing import new_trace_id

logger = logging.getLogger(__name__)


def job_enqueue(
    *,
    handler: str,
    args: dict | None = None,
    requested_by=None,
    queue: str | None = None,
    priority: int | None = None,
    max_attempts: int | None = None,
    timeout: int | None = None,
    run_after: datetime | None = None,
    delay: float | None = None,
    unique_key: str | None = None,
    trace_id: str | None = None,
) -> Job:
    """Create a QUEUED job and hand it to the broker after commit (a rolled-back enqueue never runs).

    Raises UnknownHandler, PermissionDenied, QuotaExceeded, InvalidJob (field errors) or DuplicateJob
    (an active job holds `unique_key`).
    A job due later is left to the pump, which dispatches it when its time comes."""
    spec = get_handler(handler)
    job_admit(spec=spec, user=requested_by, run_after=run_after, delay=delay)  # 403, 400 (start), 429
    args = spec.clean_args(args if args is not None else {})
    _check_json(args)
    now = timezone.now()
    job = Job(
        handler=spec.name,
        args=args,
        queue=queue or spec.queue or settings.JOBS_QUEUES[0],
        priority=priority if priority is not None else spec.priority,
        max_attempts=max_attempts or spec.max_attempts or settings.JOBS_DEFAULT_MAX_ATTEMPTS,
        timeout=timeout or spec.timeout or settings.JOBS_DEFAULT_TIMEOUT,
        run_after=run_after or now + timedelta(seconds=delay or 0),
        unique_key=unique_key or None,
        requested_by=requested_by if requested_by and requested_by.is_authenticated else None,
        trace_id=trace_id or new_trace_id(),
        created_at=now,
    )
    _check_options(job)
    if spec.concurrency_limit:
        job.concurrency_key = f"{spec.name}:{spec.concurrency_key(args) if spec.concurrency_key else ''}"
        job.concurrency_limit = spec.concurrency_limit
    # A job under a concurrency limit waits for the pump, which hands out only free slots.
    immediate = job.run_after <= now and not job.concurrency_key
    if immediate:
        job.dispatched_at = now
    if immediate and runner.dispatch_is_transactional():
        # ORM broker on our database: job row and broker row commit together, in one commit.
        with transaction.atomic():
            _insert(job)
            runner.dispatch(job)
    else:
        _insert(job)
        if immediate:
            transaction.on_commit(partial(runner.dispatch, job))
    logger.info(
        "job enqueued",
        extra={"action": "job.enqueued", "job_id": job.pk, "trace_id": job.trace_id, "handler": job.handler},
    )
    return job


def _insert(job: Job) -> None:
    if not job.unique_key:  # nothing else can clash: the checks ran already
        job.save(force_insert=True)
        return
    try:
        with transaction.atomic():  # a savepoint: a unique-key clash must not poison the caller's transaction
            job.save(force_insert=True)
    except IntegrityError:
        existing = Job.objects.active().filter(unique_key=job.unique_key).values_list("pk", flat=True).first()
        if job.unique_key and existing:
            raise DuplicateJob(
                f"Job #{existing} with unique key {job.unique_key!r} is still active.", existing_id=existing
            ) from None
        raise


def _check_json(args: dict) -> None:
    try:
        json.dumps(args, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidJob({"args": [f"Must be plain JSON: {exc}"]}) from None


def _check_options(job: Job) -> None:
    errors = {}
    if job.queue not in settings.JOBS_QUEUES:
        errors["queue"] = [f"Unknown queue {job.queue!r}; known: {', '.join(settings.JOBS_QUEUES)}."]
    if not 1 <= job.timeout <= settings.JOBS_MAX_TIMEOUT:
        errors["timeout"] = [f"Must be between 1 and {settings.JOBS_MAX_TIMEOUT} seconds."]
    if not 1 <= job.max_attempts <= 100:
        errors["max_attempts"] = ["Must be between 1 and 100."]
    if not -100 <= job.priority <= 100:
        errors["priority"] = ["Must be between -100 and 100."]
    if errors:
        raise InvalidJob(errors)
