"""Who may do what with jobs: one set of rules, called by the services and selectors, so the API,
the pages, the admin and the commands cannot disagree (the table is in docs/SECURITY.md).

`user=None` is the system: a management command run by whoever has the shell, the runner, a
handler starting a job. It may do everything. An anonymous user may do nothing."""

from __future__ import annotations

from django.db.models import QuerySet

from jobs.exceptions import JobNotFound, PermissionDenied
from jobs.models import Job
from jobs.registry import AUTHENTICATED, STAFF, HandlerSpec

VIEW_ALL = "jobs.view_job"
ACTIONS = {"retry": "jobs.retry_job", "cancel": "jobs.cancel_job"}


def _system(user) -> bool:
    return user is None


def job_may_see_all(user) -> bool:
    """Everyone's jobs: the system, and users holding jobs.view_job or an action permission."""
    if _system(user):
        return True
    if not user.is_authenticated:
        return False
    return user.has_perm(VIEW_ALL) or any(user.has_perm(perm) for perm in ACTIONS.values())


def jobs_visible(jobs: QuerySet[Job], *, user) -> QuerySet[Job]:
    """The part of `jobs` that `user` may see: everything, their own, or nothing (anonymous)."""
    if job_may_see_all(user):
        return jobs
    if not user.is_authenticated:
        return jobs.none()
    return jobs.filter(requested_by=user)


def job_may(user, action: str, job: Job | None = None) -> bool:
    """`retry` or `cancel`: the owner on their own job, a holder of the action's permission on any."""
    if _system(user):
        return True
    if not user.is_authenticated:
        return False
    if user.has_perm(ACTIONS[action]):
        return True
    return job is not None and job.requested_by_id == user.pk


def job_check(*, user, action: str, job: Job) -> None:
    """Raise JobNotFound when `user` may not see the job (its existence stays hidden), and
    PermissionDenied when they see it but may not do `action`."""
    if _system(user):
        return
    if not (job_may_see_all(user) or (user.is_authenticated and job.requested_by_id == user.pk)):
        raise JobNotFound(f"Job {job.pk} not found.")
    if not job_may(user, action, job):
        raise PermissionDenied(f"You do not have permission to {action} job #{job.pk}.")


def handler_may_enqueue(user, spec: HandlerSpec) -> bool:
    """What the handler declares (`enqueue_permission`): any signed-in user, staff only, a Django
    permission ("app.codename"), or a function of the user."""
    if _system(user):
        return True
    if not user.is_authenticated:
        return False
    rule = spec.enqueue_permission
    if rule == AUTHENTICATED:
        return True
    if rule == STAFF:
        return user.is_staff
    if callable(rule):
        return bool(rule(user))
    return user.has_perm(rule)


def handler_check_enqueue(*, user, spec: HandlerSpec) -> None:
    if not handler_may_enqueue(user, spec):
        raise PermissionDenied(f"You do not have permission to enqueue {spec.name!r} jobs.", errors={
            "handler": [f"You may not enqueue {spec.name!r}."]
        })


def schedule_check_may(*, by, action: str) -> None:
    """Raise PermissionDenied unless `by` is the system or staff holding jobs.<action>_schedule
    (`action`: view, add, change, delete; view is also granted by any of the others)."""
    if by is None:
        return
    perms = [f"jobs.{action}_schedule"]
    if action == "view":
        perms += ["jobs.add_schedule", "jobs.change_schedule", "jobs.delete_schedule"]
    if not (by.is_authenticated and by.is_staff and any(by.has_perm(perm) for perm in perms)):
        raise PermissionDenied(f"You do not have permission to {action} schedules.")
