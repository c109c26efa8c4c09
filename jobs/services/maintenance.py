"""What each cluster's pusher does every heartbeat: report itself alive, bring back jobs that a dead
worker or a dead cluster left behind, and expire jobs whose deadline passed. Safe to run from every
cluster at once: each change is a conditional UPDATE."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jobs import metrics
from jobs.models import Cluster, Job, JobEvent, Queue
from jobs.services.dependencies import job_dependants_cancel

logger = logging.getLogger(__name__)


def job_requeue_stale(*, now: datetime | None = None, limit: int = 100) -> int:
    """RUNNING jobs whose heartbeat stopped (their worker died): QUEUED again while attempts remain
    (the lost attempt was counted at claim), FAILED when none remain, CANCELLED if a cancel was asked."""
    now = now or timezone.now()
    stale = Job.objects.stale(older_than=now - timedelta(seconds=settings.JOBS_STALE_SECONDS))
    recovered = 0
    for job in stale[:limit]:
        recovered += _recover(job, now=now)
    if recovered:
        metrics.REQUEUED.inc(recovered)
    return recovered


@transaction.atomic
def _recover(job: Job, *, now: datetime) -> int:
    timed_out = job.started_at and now > job.started_at + timedelta(seconds=job.timeout)
    why = (
        f"timed out after {job.timeout} s and its worker {job.worker} was stopped"
        if timed_out
        else f"worker {job.worker} stopped answering (last heartbeat {job.heartbeat_at:%H:%M:%S})"
    )
    error = {"type": "JobTimeout" if timed_out else "WorkerLost", "message": why, "traceback": ""}
    if job.cancel_requested_at:
        status, kind, changes = Job.Status.CANCELLED, JobEvent.Kind.CANCELLED, {"finished_at": now}
    elif job.attempts >= job.max_attempts:
        status, kind, changes = Job.Status.FAILED, JobEvent.Kind.FAILED, {"finished_at": now, "error": error}
    else:
        status, kind = Job.Status.QUEUED, JobEvent.Kind.REQUEUED
        changes = {"run_after": now, "reserved_by": "", "progress": {}, "error": error}
    if not Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, heartbeat_at=job.heartbeat_at).update(
        status=status, worker="", **changes
    ):
        return 0  # it beat after all, or another cluster got there first
    JobEvent.objects.create(job=job, at=now, kind=kind, attempt=job.attempts, message=why)
    if status != Job.Status.QUEUED and Job.objects.filter(pk=job.pk, has_dependants=True).exists():
        job_dependants_cancel(ended={job.pk: status})
    logger.warning(
        "stale job recovered",
        extra={"action": "job.recovered", "job_id": job.pk, "trace_id": job.trace_id, "status": status},
    )
    return 1


def job_release_reserved(*, now: datetime | None = None) -> int:
    """Reserved jobs that will not start where they are go back to the queue, whatever the backlog:
    those of a cluster that stopped reporting (killed with the jobs in its buffer), those of a paused
    queue (a worker refuses to start them), and those reserved longer than any job ahead of them may
    run (lost between a pusher and its workers). They never started: no attempt is lost; a copy still
    in a buffer finds its job gone and does nothing."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.JOBS_STALE_SECONDS)
    alive = Cluster.objects.filter(seen_at__gte=now - stale)
    paused = Queue.objects.filter(paused_at__isnull=False)
    lost = now - stale - timedelta(seconds=settings.JOBS_MAX_TIMEOUT)
    released = (
        Job.objects.filter(status=Job.Status.RESERVED)
        .filter(~Q(reserved_by__in=alive.values("id")) | Q(queue__in=paused.values("name")) | Q(reserved_at__lt=lost))
        .update(status=Job.Status.QUEUED, reserved_by="")
    )
    if released:
        logger.warning("reservations released", extra={"action": "job.released", "count": released})
    return released


def job_expire_overdue(*, now: datetime | None = None, limit: int = 500) -> int:
    """QUEUED jobs whose deadline passed before they started end EXPIRED, never run (and the jobs
    waiting for them CANCELLED)."""
    now = now or timezone.now()
    ids = list(Job.objects.queued().filter(deadline__lte=now).values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    with transaction.atomic():
        expired = list(
            Job.objects.filter(pk__in=ids, status=Job.Status.QUEUED, deadline__lte=now).values_list("pk", "attempts")
        )
        expired_ids = [pk for pk, _ in expired]
        Job.objects.filter(pk__in=expired_ids).update(status=Job.Status.EXPIRED, finished_at=now)
        JobEvent.objects.bulk_create(
            JobEvent(job_id=pk, at=now, kind=JobEvent.Kind.EXPIRED, attempt=attempts, message="deadline passed")
            for pk, attempts in expired
        )
        # Read after the UPDATE: a dependant enqueued meanwhile has marked its row by now (or waited for us).
        linked = Job.objects.filter(pk__in=expired_ids, has_dependants=True).values_list("pk", flat=True)
        job_dependants_cancel(ended=dict.fromkeys(linked, Job.Status.EXPIRED))
    if expired:
        metrics.EXPIRED.inc(len(expired))
        logger.warning("jobs expired", extra={"action": "job.expired", "count": len(expired)})
    return len(expired)


def cluster_report(
    *, cluster_id: str, host: str, pid: int, workers: int, queues: list[str], started_at: datetime
) -> None:
    """Record that a cluster is alive (its pusher calls this every heartbeat)."""
    Cluster.objects.update_or_create(
        id=cluster_id,
        defaults=dict(host=host, pid=pid, workers=workers, queues=queues, seen_at=timezone.now()),
        create_defaults=dict(
            host=host, pid=pid, workers=workers, queues=queues, started_at=started_at, seen_at=timezone.now()
        ),
    )


def cluster_forget_dead(*, now: datetime | None = None, after: timedelta = timedelta(hours=1)) -> int:
    """Drop clusters not seen for an hour (their reservations were released long before)."""
    return Cluster.objects.filter(seen_at__lt=(now or timezone.now()) - after).delete()[0]
