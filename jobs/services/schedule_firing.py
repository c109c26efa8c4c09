"""How schedules fire, with no scheduler process and no leader: each enabled schedule keeps one queued
job for its next firing (`run_after` at the firing time, plus jitter), which the brokers reserve like
any job. When a worker starts a firing, `schedule_fire` plants the next one and applies the catch-up
and overlap policies. The database makes each firing happen once, whatever the number of clusters:
a job's (schedule, scheduled_for) is unique, and every planting INSERT does nothing on conflict.

The upkeep of every cluster re-plants a schedule left without its next firing (a worker that died
between the start and the planting), and ensures the built-in schedules (jobs.builtin_schedules)."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from jobs.exceptions import DomainError
from jobs.models import Job, Schedule
from jobs.registry import all_handlers, get_handler
from jobs.schedule_rules import anchor, next_tick, previous_ticks
from jobs.services.control import job_cancel
from jobs.services.enqueue import job_build, job_insert_sql, job_row_params
from jobs.services.lifecycle import job_finish_cancelled
from jobs.services.wakeup import NOTIFY_SQL, notify_due

logger = logging.getLogger(__name__)

_PLANT_SQL = job_insert_sql(1, skip_conflicts=True)


def _planted(schedule_id) -> Q:
    """A firing not started yet: queued or reserved, never attempted, with a firing time."""
    return Q(schedule_id=schedule_id, status__in=["queued", "reserved"], attempts=0, scheduled_for__isnull=False)


def schedule_next_runs(*, schedule: Schedule, after: datetime | None = None, count: int = 5) -> list[datetime]:
    """The next `count` firing times of the rule after `after` (default now), for previews."""
    runs, at = [], after or timezone.now()
    while len(runs) < count and (at := _tick(schedule, after=at)) is not None:
        runs.append(at)
        if schedule.kind == Schedule.Kind.ONCE:
            break
    return runs


def _tick(schedule: Schedule, *, after: datetime) -> datetime | None:
    return next_tick(
        kind=schedule.kind, after=after, cron=schedule.cron, tz=schedule.timezone,
        interval_seconds=schedule.interval_seconds, run_at=schedule.run_at, anchored_at=anchor(schedule.created_at),
    )  # fmt: skip


@transaction.atomic
def schedule_plant(*, schedule: Schedule, now: datetime | None = None) -> int:
    """Ensure an enabled schedule has its next firing queued: the first tick after now (a one-time
    schedule: its `run_at` while in the future, and once ever). Idempotent and safe from every process
    at once; updates `next_run_at`. Returns how many jobs it inserted (0 or 1)."""
    now = now or timezone.now()
    locked = Schedule.objects.select_for_update().filter(pk=schedule.pk).first()  # the rule as it stands
    if locked is None or locked.paused_at is not None:
        return 0
    planted = 0
    if not Job.objects.filter(_planted(locked.pk)).exists():
        tick = _tick(locked, after=now)  # a one-time schedule whose time passed (paused then) has none
        planted = _insert_firing(locked, tick, now=now) if tick else 0
    _refresh_next_run(locked)
    schedule.next_run_at = locked.next_run_at
    return planted


def _insert_firing(schedule: Schedule, tick: datetime, *, now: datetime, jitter: bool = True) -> int:
    """INSERT the firing at `tick`, doing nothing when it exists (in any state): 1 if inserted."""
    job = job_build(
        handler=schedule.handler, args=schedule.args, queue=schedule.queue, priority=schedule.priority,
        max_attempts=schedule.max_attempts, timeout=schedule.timeout, quota=False, schedule=schedule,
        scheduled_for=tick,
    )  # fmt: skip
    spread = random.uniform(0, schedule.jitter_seconds) if jitter and schedule.jitter_seconds else 0
    job.run_after, job.created_at = tick + timedelta(seconds=spread), now
    job.unique_key = None  # the firing's own key replaces it: the next firing is queued while one runs
    deadline = schedule.deadline_seconds or get_handler(schedule.handler).deadline
    job.deadline = job.run_after + timedelta(seconds=deadline) if deadline else None
    params, sql = job_row_params(job), _PLANT_SQL
    if notify_due(job.queue):  # idle clusters recompute when they next have work due
        sql, params = f"WITH inserted AS ({_PLANT_SQL}) SELECT id, {NOTIFY_SQL} FROM inserted", [*params, job.queue]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def _refresh_next_run(schedule: Schedule) -> None:
    upcoming = Job.objects.filter(_planted(schedule.pk)).order_by("scheduled_for")
    schedule.next_run_at = upcoming.values_list("scheduled_for", flat=True).first()
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=schedule.next_run_at)


def schedule_unplant(*, schedule: Schedule) -> int:
    """Delete the schedule's queued, never attempted firings (before an edit, a pause or a removal);
    one a cluster already reserved runs. Returns how many were deleted."""
    deleted, _ = Job.objects.filter(_planted(schedule.pk), status=Job.Status.QUEUED).delete()
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=None)
    schedule.next_run_at = None
    return deleted


def schedule_plant_missing(*, limit: int = 100) -> int:
    """The upkeep's sweep: plant the next firing of each enabled schedule that has none (one query
    when none is missing). Returns how many jobs it inserted."""
    missing = (  # a schedule whose handler is gone (a deploy removed it) waits for it, not logged each tick
        Schedule.objects.filter(paused_at__isnull=True, handler__in=[spec.name for spec in all_handlers()])
        .filter(~Q(kind=Schedule.Kind.ONCE) | Q(next_run_at__isnull=False))
        .exclude(Exists(Job.objects.filter(_planted(OuterRef("pk")))))
    )
    planted = 0
    for schedule in missing[:limit]:
        try:
            planted += schedule_plant(schedule=schedule)
        except DomainError as exc:  # its handler is gone, say: logged, the others still fire
            logger.warning("schedule not planted: %s", exc, extra={"action": "schedule.plant_failed",
                                                                    "schedule": schedule.name})
    return planted


def schedule_fire(*, job: Job, now: datetime | None = None) -> bool:
    """Called right after a firing started (its first attempt): plant the next firing, then apply the
    catch-up and overlap policies. False when the job must not run; it then ended CANCELLED with why."""
    now = now or timezone.now()
    schedule = Schedule.objects.filter(pk=job.schedule_id).first()
    if schedule is None or job.attempts != 1:  # a retry already passed the policies
        if schedule is not None:
            schedule_plant(schedule=schedule, now=now)
        return True
    missed = _missed(schedule, job, now)
    if missed and schedule.catch_up == Schedule.CatchUp.ALL and not _later_firings(schedule, job):
        _plant_missed(schedule, after=job.scheduled_for, now=now)
    schedule_plant(schedule=schedule, now=now)
    if missed and schedule.catch_up == Schedule.CatchUp.SKIP:
        job_finish_cancelled(job=job, message=f"missed: due at {job.scheduled_for:%Y-%m-%d %H:%M:%S} UTC")
        return False
    return _overlap(schedule, job)


def _missed(schedule: Schedule, job: Job, now: datetime) -> bool:
    """Started more than one period late: the next tick after it is already due. Counted from its
    run_after, so jitter, and a late manual retry, do not count as missed."""
    if job.scheduled_for is None or schedule.kind == Schedule.Kind.ONCE:
        return False
    following = _tick(schedule, after=job.scheduled_for)
    return following is not None and following <= now - (job.run_after - job.scheduled_for)


def _later_firings(schedule: Schedule, job: Job) -> bool:
    """Whether firings after this one exist: it is then one of the missed ones planted at once (which
    start late too), and planting them again would grow with the square of the cap."""
    return Job.objects.filter(schedule_id=schedule.pk, scheduled_for__gt=job.scheduled_for).exists()


def _plant_missed(schedule: Schedule, *, after: datetime, now: datetime) -> None:
    """catch_up=all: the latest missed firings, all due now, so at most catch_up_limit run in all."""
    ticks = previous_ticks(
        kind=schedule.kind, before=now, after=after, count=schedule.catch_up_limit - 1, cron=schedule.cron,
        tz=schedule.timezone, interval_seconds=schedule.interval_seconds, anchored_at=anchor(schedule.created_at),
    )  # fmt: skip
    for tick in ticks:
        _insert_firing(schedule, tick, now=now, jitter=False)


def _overlap(schedule: Schedule, job: Job) -> bool:
    if schedule.overlap == Schedule.Overlap.ALLOW:
        return True
    earlier = Q(started_at__lt=job.started_at) | Q(started_at=job.started_at, pk__lt=job.pk)
    previous = list(Job.objects.running().filter(earlier, schedule_id=schedule.pk))
    if not previous:
        return True
    if schedule.overlap == Schedule.Overlap.SKIP:
        job_finish_cancelled(job=job, message=f"skipped: previous run #{previous[0].pk} still going")
        return False
    for running in previous:  # CANCEL: ask them to stop, then run
        job_cancel(job=running, by=None)
    return True


def schedule_ensure_builtins() -> int:
    """Create each built-in schedule (jobs.builtin_schedules) whose handler is registered and which does
    not exist yet; an existing one keeps its operator's edits. Idempotent. Returns how many it created."""
    from jobs.builtin_schedules import builtin_schedules
    from jobs.services.schedules import schedule_create

    registered = {spec.name for spec in all_handlers()}
    created = 0
    for fields in builtin_schedules():
        if fields["handler"] not in registered or Schedule.objects.filter(name=fields["name"]).exists():
            continue
        try:
            schedule_create(by=None, builtin=True, **fields)
            created += 1
        except DomainError as exc:  # another cluster created it first, or a bad entry: logged
            logger.info("built-in schedule not created: %s", exc, extra={"action": "schedule.builtin_skipped"})
    return created
