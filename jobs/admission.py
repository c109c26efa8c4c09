"""What a job must pass before it is created, besides its arguments: may this user enqueue this
handler, is its start time within bounds, and is the user under their cap of active jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from jobs.datetimes import check_offset
from jobs.exceptions import InvalidJob, QuotaExceeded
from jobs.models import Job
from jobs.permissions import handler_check_enqueue
from jobs.registry import HandlerSpec


def job_admit(
    *, spec: HandlerSpec, user, run_after: datetime | None = None, delay: float | None = None, quota: bool = True
) -> None:
    """Raise PermissionDenied (403), InvalidJob on `run_after`/`delay` beyond
    settings.JOBS_MAX_DELAY_SECONDS (400), or QuotaExceeded (429) when the user already has
    settings.JOBS_MAX_ACTIVE_PER_USER queued or running jobs. The system (user None) and
    superusers have no cap. A batch passes `quota=False` and checks the quota once for all its jobs."""
    handler_check_enqueue(user=user, spec=spec)
    job_check_start(run_after=run_after, delay=delay)
    if quota:
        job_check_quota(user=user)


def job_check_start(*, run_after: datetime | None, delay: float | None) -> None:
    limit = settings.JOBS_MAX_DELAY_SECONDS
    if delay is not None and not 0 <= delay <= limit:
        raise InvalidJob({"delay": [f"Must be between 0 and {limit} seconds."]})
    if run_after is not None:
        try:
            check_offset(run_after)
        except ValidationError as exc:
            raise InvalidJob({"run_after": list(exc.messages)}) from None
        if timezone.is_naive(run_after):
            raise InvalidJob({"run_after": ["Give a time zone (e.g. 2030-01-01T12:00:00Z)."]})
        if run_after > timezone.now() + timedelta(seconds=limit):
            raise InvalidJob({"run_after": [f"Must be at most {limit} seconds from now."]})


def job_check_quota(*, user, adding: int = 1) -> None:
    """Raise QuotaExceeded when `adding` more jobs would take `user` over their cap of active jobs."""
    cap = settings.JOBS_MAX_ACTIVE_PER_USER
    if user is None or not user.is_authenticated or user.is_superuser or not cap:
        return
    # A soft cap: two requests racing may both pass; it bounds abuse, not an exact count.
    active = Job.objects.active().filter(requested_by=user)[:cap].count()
    if active + adding > cap:
        more = f"; {adding} more would pass the cap of {cap}" if adding > 1 else ", the most allowed"
        raise QuotaExceeded(
            f"You have {active} queued or running jobs{more}; wait for some to finish.",
            retry_after=settings.JOBS_QUOTA_RETRY_AFTER,
        )
