"""Every read of jobs that is shown to someone: API, pages, admin and commands go through these."""

from __future__ import annotations

from django.db.models import QuerySet

from jobs.exceptions import JobNotFound
from jobs.models import Job, JobEvent
from jobs.permissions import jobs_visible


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


def job_events(*, job: Job) -> list[JobEvent]:
    return list(job.events.select_related("actor"))
