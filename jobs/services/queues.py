"""What an operator does to a queue: pause it, resume it, cap how many of its jobs run at once.
The state is a row every cluster's claim statement reads, so a change holds everywhere at once."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.exceptions import InvalidJob, PermissionDenied
from jobs.models import Queue
from jobs.services.wakeup import notify_queue


def _check_may_control(by) -> None:
    """Operators with `jobs.pause_queue` may change a queue; `by=None` is the command line."""
    if by is not None and not by.has_perm("jobs.pause_queue"):
        raise PermissionDenied("You may not pause, resume or limit queues.")


def _known(name: str) -> str:
    if name not in settings.JOBS_QUEUES:
        raise InvalidJob({"queue": [f"Unknown queue {name!r}; known: {', '.join(settings.JOBS_QUEUES)}."]})
    return name


@transaction.atomic
def queue_pause(*, name: str, by=None) -> Queue:
    """Stop every cluster from starting the queue's jobs; running ones finish. Idempotent: a second
    pause keeps who paused it first, and when."""
    _check_may_control(by)
    queue, _ = Queue.objects.select_for_update().get_or_create(name=_known(name))
    if queue.paused_at is None:
        queue.paused_at = timezone.now()
        queue.paused_by = by if by is not None and by.is_authenticated else None
        queue.save(update_fields=["paused_at", "paused_by"])
    return queue


@transaction.atomic
def queue_resume(*, name: str, by=None) -> Queue:
    """Let the queue's jobs start again, in their order. Idempotent."""
    _check_may_control(by)
    queue, _ = Queue.objects.select_for_update().get_or_create(name=_known(name))
    if queue.paused_at is not None:
        queue.paused_at, queue.paused_by = None, None
        queue.save(update_fields=["paused_at", "paused_by"])
        notify_queue(queue.name)
    return queue


def queue_limit_validate(limit: int | None) -> int | None:
    """The one check of a queue limit's range (the admin form asks it too)."""
    if limit is not None and not 1 <= limit <= 10_000:
        raise InvalidJob({"concurrency_limit": ["Must be between 1 and 10000, or empty for no limit."]})
    return limit


@transaction.atomic
def queue_set_limit(*, name: str, limit: int | None, by=None) -> Queue:
    """At most `limit` jobs of the queue reserved or running over all clusters (None: no limit)."""
    _check_may_control(by)
    queue_limit_validate(limit)
    queue, _ = Queue.objects.select_for_update().get_or_create(name=_known(name))
    queue.concurrency_limit = limit
    queue.save(update_fields=["concurrency_limit"])
    notify_queue(queue.name)
    return queue
