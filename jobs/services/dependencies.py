"""Jobs that wait for other jobs (`depends_on`). A job with dependencies starts WAITING, becomes QUEUED
once all its upstream jobs succeeded, and ends CANCELLED with the reason as soon as one of them fails
for good, is cancelled or expires (its own dependants after it). Links are written only at enqueue,
so a cycle can only form inside one batch, where `dependency_order` refuses it.

Race safety (a dependency ending while its dependant is enqueued): the enqueue first marks its
upstream rows `has_dependants` with an UPDATE, which row-locks them until it commits, and only then
reads their statuses. A job's end is an UPDATE of the same row, so on PostgreSQL (READ COMMITTED)
one of the two waits for the other. If the end came first, the enqueue's read (a later statement,
a fresh snapshot) sees the final status; if the enqueue came first, the end's UPDATE returns
`has_dependants` true and the settling that follows it sees the committed dependant. SQLite's
IMMEDIATE transactions serialise all of this. A job that never had dependants is never looked at:
its end costs no extra statement."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from jobs.exceptions import InvalidJob, JobStateConflict
from jobs.models import Job, JobDependency, JobEvent
from jobs.permissions import jobs_visible
from jobs.services.wakeup import notify_queues

logger = logging.getLogger(__name__)

MAX_DEPENDENCIES = 100  # per job: a bound on the locks an enqueue takes and on a page's lists
ENDED_BADLY = (Job.Status.FAILED, Job.Status.CANCELLED, Job.Status.EXPIRED)
FIELD = "depends_on"


def dependency_ids(values) -> list[int]:
    """The job ids of a `depends_on` value, duplicates dropped; InvalidJob unless a list of at most
    MAX_DEPENDENCIES positive integers."""
    if not isinstance(values, (list, tuple)) or not all(_is_id(v) for v in values):
        raise InvalidJob({FIELD: ["Give a list of job ids."]})
    ids = list(dict.fromkeys(values))
    if len(ids) > MAX_DEPENDENCIES:
        raise InvalidJob({FIELD: [f"A job may depend on at most {MAX_DEPENDENCIES} jobs."]})
    return ids


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def dependency_lock(*, ids: list[int], user) -> dict[int, str]:
    """Mark the jobs `ids` as having dependants and return their statuses, read after the mark (which
    locks their rows until the caller's transaction ends: see the module's docstring). Raises
    InvalidJob on `depends_on` naming the ids that do not exist or that `user` may not see."""
    if not ids:
        return {}
    visible = set(jobs_visible(Job.objects.filter(pk__in=ids), user=user).order_by().values_list("pk", flat=True))
    Job.objects.filter(pk__in=visible).update(has_dependants=True)
    statuses = dict(Job.objects.filter(pk__in=visible).values_list("pk", "status"))
    missing = [pk for pk in ids if pk not in statuses]
    if missing:
        raise UnknownDependencies(missing)
    return statuses


class UnknownDependencies(InvalidJob):
    """`depends_on` names jobs that do not exist or that the requester may not see (the same answer
    for both, so another user's job ids stay hidden)."""

    def __init__(self, missing: list[int]):
        super().__init__({FIELD: [f"No job {', '.join(f'#{pk}' for pk in missing)} that you may see."]})
        self.missing = set(missing)


def dependency_outcome(statuses: dict[int, str]) -> tuple[str, str]:
    """The status a job with these upstream statuses starts in, and why when it is CANCELLED."""
    for pk, status in sorted(statuses.items()):
        if status in ENDED_BADLY:
            return Job.Status.CANCELLED, f"dependency #{pk} {status}"
    if all(status == Job.Status.SUCCEEDED for status in statuses.values()):
        return Job.Status.QUEUED, ""
    return Job.Status.WAITING, ""


def dependency_start(job: Job, *, statuses: dict[int, str], now: datetime) -> str:
    """Set the unsaved `job`'s status from its upstream statuses; returns the reason it is cancelled."""
    job.status, reason = dependency_outcome(statuses)
    if reason:
        job.finished_at, job.error = now, dependency_error(reason)
    return reason


def dependency_error(reason: str) -> dict:
    return {"type": "DependencyFailed", "message": reason, "traceback": ""}


def dependency_link(*, links: list[tuple[Job, int]], cancelled: dict[Job, str], now: datetime) -> None:
    """Write the (job, upstream id) links of just inserted jobs, and the event of each job that was
    cancelled at once because a dependency had already ended badly."""
    JobDependency.objects.bulk_create([JobDependency(job_id=job.pk, depends_on_id=up) for job, up in links])
    JobEvent.objects.bulk_create(
        [JobEvent(job_id=job.pk, at=now, kind=JobEvent.Kind.CANCELLED, message=why) for job, why in cancelled.items()]
    )


def dependency_order(deps: dict[int, list[int]]) -> tuple[list[int], list[int]]:
    """A batch's items in an order where each comes after those it depends on (`deps`: item -> items),
    and the items left on a cycle (or behind one), which the batch refuses."""
    waiting_on = {item: set(ups) for item, ups in deps.items()}
    dependants = defaultdict(list)
    for item, ups in waiting_on.items():
        for up in ups:
            dependants[up].append(item)
    ready = [item for item, ups in waiting_on.items() if not ups]
    order = []
    while ready:
        item = ready.pop()
        order.append(item)
        for down in dependants[item]:
            waiting_on[down].discard(item)
            if not waiting_on[down]:
                ready.append(down)
    placed = set(order)
    return order, sorted(item for item in waiting_on if item not in placed)


def job_dependencies_retry(*, job: Job) -> str:
    """The status a retried job takes: QUEUED without dependencies or once they all succeeded, else
    WAITING. Raises JobStateConflict when one of them ended badly (retry that one first)."""
    ups = list(JobDependency.objects.filter(job=job).values_list("depends_on_id", flat=True))
    status, reason = dependency_outcome(dependency_lock(ids=ups, user=None))
    if reason:
        raise JobStateConflict(f"Job #{job.pk} cannot run: its {reason}; retry that one first.")
    return status


def job_dependants_settle(*, ended: dict[int, str]) -> None:
    """After jobs ended (`ended`: id -> final status): the WAITING dependants of those that succeeded
    are QUEUED when all their dependencies have; those of the others end CANCELLED, recursively."""
    succeeded = [pk for pk, status in ended.items() if status == Job.Status.SUCCEEDED]
    if succeeded:
        job_dependants_release(job_ids=succeeded)
    bad = {pk: status for pk, status in ended.items() if status in ENDED_BADLY}
    if bad:
        job_dependants_cancel(ended=bad)


def job_dependants_recover(*, limit: int = 100, since: datetime | None = None) -> int:
    """Settle WAITING jobs that a dying worker left behind between a dependency's end and the settling
    that follows it (on PostgreSQL, a transaction of its own): those whose dependencies all succeeded,
    or one of which ended badly. With `since` (each cluster's upkeep: an hour ago) only the dependants of
    jobs that ended since are looked at, so a long backlog of waiting jobs costs nothing per tick;
    without it (`jobs_recover`) every waiting job is."""
    links = JobDependency.objects.filter(job_id=OuterRef("pk"))
    unfinished = links.exclude(depends_on__status=Job.Status.SUCCEEDED)
    stuck = Job.objects.filter(status=Job.Status.WAITING).filter(
        Exists(links) & (~Exists(unfinished) | Exists(links.filter(depends_on__status__in=ENDED_BADLY)))
    )
    if since is not None:
        ended = Job.objects.filter(status__in=[Job.Status.SUCCEEDED, *ENDED_BADLY], finished_at__gte=since)
        stuck = stuck.filter(pk__in=JobDependency.objects.filter(depends_on__in=ended).values("job_id"))
    ids = list(stuck.values_list("pk", flat=True)[:limit])
    if ids:
        final = [Job.Status.SUCCEEDED, *ENDED_BADLY]
        ended = JobDependency.objects.filter(job_id__in=ids, depends_on__status__in=final)
        job_dependants_settle(ended=dict(ended.values_list("depends_on_id", "depends_on__status")))
        logger.warning("waiting jobs settled late", extra={"action": "job.dependants_recovered", "count": len(ids)})
    return len(ids)


def job_dependants_release(*, job_ids: list[int]) -> list[int]:
    """WAITING dependants of `job_ids` whose dependencies all succeeded -> QUEUED (due now, or at their
    own later run_after), with a `released` event and a wake-up of their queues. Each candidate is
    locked before its dependencies are read, so two dependencies ending at once cannot both miss it."""
    with transaction.atomic():
        return _release(job_ids, now=timezone.now())


def _release(job_ids: list[int], *, now: datetime) -> list[int]:
    below = JobDependency.objects.filter(depends_on__in=job_ids).values("job_id")
    candidates = list(
        Job.objects.select_for_update().filter(pk__in=below, status=Job.Status.WAITING).values_list("pk", flat=True)
    )
    if not candidates:
        return []
    blocked = JobDependency.objects.filter(job_id__in=candidates).exclude(depends_on__status=Job.Status.SUCCEEDED)
    ready = list(
        Job.objects.filter(pk__in=candidates).exclude(pk__in=blocked.values("job_id")).values_list("pk", "queue")
    )
    ids = [pk for pk, _ in ready]
    Job.objects.filter(pk__in=ids).update(status=Job.Status.QUEUED, run_after=Greatest(F("run_after"), Value(now)))
    JobEvent.objects.bulk_create(
        [JobEvent(job_id=pk, at=now, kind=JobEvent.Kind.RELEASED, message="dependencies succeeded") for pk in ids]
    )
    notify_queues(sorted({queue for _, queue in ready}))
    if ids:
        logger.info("dependants released", extra={"action": "job.dependants_released", "count": len(ids)})
    return ids


def job_dependants_cancel(*, ended: dict[int, str]) -> int:
    """WAITING dependants of the jobs `ended` (id -> failed, cancelled or expired) end CANCELLED with
    "dependency #N <status>" as their error and event, and so on down the chain."""
    if not ended:
        return 0
    with transaction.atomic():
        total = _cancel(ended, now=timezone.now())
    if total:
        logger.warning("dependants cancelled", extra={"action": "job.dependants_cancelled", "count": total})
    return total


def _cancel(ended: dict[int, str], *, now: datetime) -> int:
    total = 0
    while ended:
        links = JobDependency.objects.filter(depends_on__in=list(ended), job__status=Job.Status.WAITING)
        reasons: dict[int, str] = {}
        for pk, up in sorted(links.values_list("job_id", "depends_on_id")):
            reasons.setdefault(pk, f"dependency #{up} {ended[up]}")
        locked = Job.objects.select_for_update().filter(pk__in=list(reasons), status=Job.Status.WAITING)
        rows = list(locked.values_list("pk", "attempts", "has_dependants"))
        by_reason = defaultdict(list)
        for pk, _, _ in rows:
            by_reason[reasons[pk]].append(pk)
        for why, ids in by_reason.items():
            Job.objects.filter(pk__in=ids).update(
                status=Job.Status.CANCELLED, finished_at=now, error=dependency_error(why)
            )
        JobEvent.objects.bulk_create(
            [JobEvent(job_id=pk, at=now, kind=JobEvent.Kind.CANCELLED, attempt=attempts, message=reasons[pk])
             for pk, attempts, _ in rows]
        )  # fmt: skip
        total += len(rows)
        ended = {pk: Job.Status.CANCELLED.value for pk, _, has_dependants in rows if has_dependants}
    return total
