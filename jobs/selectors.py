"""Every read of jobs that is shown to someone: API, pages, admin and commands go through these."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from jobs.exceptions import JobNotFound, ScheduleNotFound, UnknownHandler
from jobs.models import Job, JobEvent, Queue, Schedule
from jobs.registry import get_handler
from jobs.permissions import jobs_visible, schedule_check_may


def job_list(*, user=None) -> QuerySet[Job]:
    """Jobs `user` may see (jobs.permissions: everyone's with jobs.view_job or an action permission,
    else their own), newest first. None means no restriction."""
    return jobs_visible(Job.objects.select_related("requested_by"), user=user)


def job_get(*, job_id, user=None) -> Job:
    """One job `user` may see; JobNotFound otherwise (another user's job is not revealed)."""
    try:
        return job_list(user=user).get(pk=int(job_id))
    except (Job.DoesNotExist, ValueError, TypeError):
        raise JobNotFound(f"Job {job_id} not found.") from None


DEPENDENCIES_SHOWN = 100


def job_dependencies(*, job: Job, user=None) -> tuple[list[Job], list[Job]]:
    """The jobs `job` depends on and the jobs that depend on it (at most DEPENDENCIES_SHOWN of each,
    oldest first), as far as `user` may see them: one indexed read, two if it has dependants."""
    fields = ("id", "handler", "status", "run_after", "attempts", "max_attempts", "requested_by_id")

    def shown(jobs: QuerySet[Job]) -> list[Job]:
        return list(jobs_visible(jobs, user=user).order_by("id").only(*fields)[:DEPENDENCIES_SHOWN])

    upstream = shown(Job.objects.filter(downstream_links__job=job))
    return upstream, shown(Job.objects.filter(upstream_links__depends_on=job)) if job.has_dependants else []


def job_events(*, job: Job) -> list[JobEvent]:
    return list(job.events.select_related("actor"))


def job_wait_reason(*, job: Job, now: datetime | None = None) -> str | None:
    """Why a waiting or queued job has not started yet, in an operator's words; None when nothing holds
    it back but the work ahead of it (or it is not queued). A few small indexed reads: for one job's page."""
    if job.status == Job.Status.WAITING:
        ahead = Job.objects.filter(downstream_links__job=job).exclude(status=Job.Status.SUCCEEDED).order_by("pk")
        return f"the jobs it depends on: {', '.join(f'#{pk}' for pk in ahead.values_list('pk', flat=True)[:10])}"
    if job.status != Job.Status.QUEUED:
        return None
    now = now or timezone.now()
    if job.run_after > now:
        return f"not due until {job.run_after:%Y-%m-%d %H:%M:%S}"
    state = Queue.objects.filter(name=job.queue).first()
    if state and state.is_paused:
        return f"queue {job.queue} is paused"
    limit = state.concurrency_limit if state else None
    if limit and Job.objects.in_flight().filter(queue=job.queue).count() >= limit:
        return f"queue {job.queue} is at its limit of {state.concurrency_limit} jobs in flight"
    if job.concurrency_key and (
        Job.objects.in_flight().filter(concurrency_key=job.concurrency_key).count() >= (job.concurrency_limit or 1)
    ):
        return f"concurrency limit {job.concurrency_limit} reached for {job.concurrency_key}"
    rate = _rate_limit(job.handler)
    window_start = now - timedelta(seconds=rate[1]) if rate else None
    if rate and Job.objects.filter(handler=job.handler, reserved_at__gt=window_start).count() >= rate[0]:
        return f"rate limit of {rate[0]} starts per {rate[1]:g} s reached for {job.handler}"
    return None


def _rate_limit(handler: str) -> tuple[int, float] | None:
    try:
        return get_handler(handler).rate_limit
    except UnknownHandler:
        return None


def schedule_list(*, user=None) -> QuerySet[Schedule]:
    """Every schedule, by name, with its latest started firing (`last_run_id`, `last_run_status`,
    `last_run_at`), for the system or staff with a Schedule permission; PermissionDenied for anyone else."""
    schedule_check_may(by=user, action="view")
    latest = Job.objects.filter(schedule=OuterRef("pk"), started_at__isnull=False).order_by("-started_at")
    return Schedule.objects.select_related("paused_by", "created_by").annotate(
        last_run_id=Subquery(latest.values("pk")[:1]),
        last_run_status=Subquery(latest.values("status")[:1]),
        last_run_at=Subquery(latest.values("started_at")[:1]),
    )


def schedule_get(*, name: str, user=None) -> Schedule:
    """One schedule by name; ScheduleNotFound, or PermissionDenied as `schedule_list`."""
    try:
        return schedule_list(user=user).get(name=name)
    except Schedule.DoesNotExist:
        raise ScheduleNotFound(f"Schedule {name!r} not found.") from None


def schedule_runs(*, schedule: Schedule, limit: int = 10) -> list[Job]:
    """Its latest firings (planted ones included), newest first: each job's status is the outcome."""
    return list(schedule.jobs.order_by("-created_at", "-id")[:limit])
