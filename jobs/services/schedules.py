"""What an operator does to a schedule: create, edit, pause, resume, remove, run now. Each write
re-plants the schedule's one queued firing (jobs.services.schedule_firing), so the next firing
follows the rule as it now stands. Permissions are Django's model permissions on Schedule, held by
staff; `by=None` is the system (commands, the built-ins)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.exceptions import InvalidJob, InvalidSchedule, ScheduleStateConflict
from jobs.models import Job, Schedule
from jobs.permissions import handler_check_enqueue, schedule_check_may
from jobs.registry import get_handler
from jobs.schedule_rules import cron_problem, timezone_problem
from jobs.services.enqueue import job_build, job_enqueue
from jobs.services.schedule_firing import schedule_plant, schedule_unplant

# The fields a client sets; every other column is the system's.
EDITABLE = (
    "name", "description", "handler", "args", "queue", "priority", "timeout", "max_attempts", "deadline_seconds",
    "kind", "cron", "timezone", "interval_seconds", "run_at", "catch_up", "catch_up_limit", "overlap",
    "jitter_seconds",
)  # fmt: skip
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
MAX_INTERVAL = 366 * 86400


def schedule_clean(*, fields: dict, schedule: Schedule | None = None) -> dict:
    """The editable fields of `schedule` (None: a new one) with `fields` applied, validated: raises
    InvalidSchedule (an InvalidJob) with every field's messages. The handler, its arguments and run
    options are checked by `job_build`, as an enqueue would check them. `kind` defaults from which
    rule field is given; None clears an option (back to the handler's default)."""
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidSchedule({name: ["Unknown field."] for name in unknown})
    base = {name: getattr(schedule or Schedule(), name) for name in EDITABLE}
    if schedule is None and "kind" not in fields:
        fields = {**fields, "kind": _kind_of(fields)}
    # None clears an option, but these have a value of their own: None means their default.
    keep = {"args": {}, "timezone": "UTC", "description": "", "cron": "", "jitter_seconds": 0, "catch_up_limit": 10}
    values = {**base, **{k: keep[k] if v is None and k in keep else v for k, v in fields.items()}}
    errors: dict[str, list[str]] = {}
    _check_identity(values, schedule, errors)
    _check_job(values, errors)
    _check_rule(values, schedule, errors)
    if errors:
        raise InvalidSchedule(errors)
    return values


def _kind_of(fields: dict) -> str:
    if fields.get("interval_seconds") is not None:
        return Schedule.Kind.INTERVAL
    return Schedule.Kind.ONCE if fields.get("run_at") is not None else Schedule.Kind.CRON


def _check_identity(values: dict, schedule: Schedule | None, errors: dict) -> None:
    name = values["name"] or ""
    if not NAME.match(name):
        errors["name"] = ["Use 1-100 lowercase letters, digits, - or _, starting with a letter or digit."]
    elif schedule is not None and schedule.builtin and name != schedule.name:
        errors["name"] = ["A built-in schedule keeps its name."]
    elif Schedule.objects.filter(name=name).exclude(pk=schedule.pk if schedule else None).exists():
        errors["name"] = [f"A schedule named {name!r} already exists."]


def _check_job(values: dict, errors: dict) -> None:
    """The job each firing would enqueue, built (not saved) by the system, as the planting will."""
    options = {key: values[key] for key in ("queue", "priority", "max_attempts", "timeout")}
    try:
        job_build(handler=values["handler"] or "", args=values["args"], requested_by=None, quota=False, **options)
    except InvalidJob as exc:
        errors.update(exc.errors)
    if values["deadline_seconds"] is not None and not 1 <= values["deadline_seconds"] <= MAX_INTERVAL:
        errors["deadline_seconds"] = [f"Must be between 1 and {MAX_INTERVAL} seconds, or empty."]


def _check_rule(values: dict, schedule: Schedule | None, errors: dict) -> None:
    kind = values["kind"]
    if kind not in Schedule.Kind.values:
        errors["kind"] = [f"Must be one of {', '.join(Schedule.Kind.values)}."]
    if kind == Schedule.Kind.CRON and (problem := cron_problem(values["cron"] or "")):
        errors["cron"] = [problem]
    if problem := timezone_problem(values["timezone"] or ""):
        errors["timezone"] = [problem]
    seconds = values["interval_seconds"]
    if kind == Schedule.Kind.INTERVAL and not (isinstance(seconds, int) and 1 <= seconds <= MAX_INTERVAL):
        errors["interval_seconds"] = [f"Must be between 1 and {MAX_INTERVAL} seconds."]
    _check_run_at(values["run_at"], kind, schedule, errors)
    if values["catch_up"] not in Schedule.CatchUp.values:
        errors["catch_up"] = [f"Must be one of {', '.join(Schedule.CatchUp.values)}."]
    if not 1 <= (values["catch_up_limit"] or 0) <= 1000:
        errors["catch_up_limit"] = ["Must be between 1 and 1000."]
    if values["overlap"] not in Schedule.Overlap.values:
        errors["overlap"] = [f"Must be one of {', '.join(Schedule.Overlap.values)}."]
    if not 0 <= (values["jitter_seconds"] or 0) <= 3600:
        errors["jitter_seconds"] = ["Must be between 0 and 3600 seconds."]


def _check_run_at(run_at: datetime | None, kind: str, schedule: Schedule | None, errors: dict) -> None:
    if kind != Schedule.Kind.ONCE:
        return
    if run_at is None:
        errors["run_at"] = ["Required for a one-time schedule."]
    elif timezone.is_naive(run_at):
        errors["run_at"] = ["Give a time zone (e.g. 2030-01-01T12:00:00Z)."]
    elif run_at <= timezone.now() and (schedule is None or schedule.run_at != run_at):
        errors["run_at"] = ["Must be in the future."]


def _actor(by):
    return by if by is not None and by.is_authenticated else None


def _save_new(schedule: Schedule) -> None:
    try:
        with transaction.atomic():  # a savepoint: two creates racing for a name
            schedule.save()
    except IntegrityError:
        raise InvalidSchedule({"name": [f"A schedule named {schedule.name!r} already exists."]}) from None


@transaction.atomic
def schedule_create(*, by=None, paused: bool = False, builtin: bool = False, **fields) -> Schedule:
    """A new schedule from the EDITABLE `fields`, its first firing planted (unless `paused`). Raises
    PermissionDenied (jobs.add_schedule, and the handler's own enqueue permission) or InvalidJob."""
    schedule_check_may(by=by, action="add")
    values = schedule_clean(fields=fields)
    handler_check_enqueue(user=by, spec=get_handler(values["handler"]))
    now = timezone.now()
    schedule = Schedule(
        **values, builtin=builtin, created_by=_actor(by), created_at=now, updated_at=now,
        paused_at=now if paused else None, paused_by=_actor(by) if paused else None,
    )  # fmt: skip
    _save_new(schedule)
    schedule_plant(schedule=schedule)
    return schedule


@transaction.atomic
def schedule_update(*, schedule: Schedule, by=None, **changes) -> Schedule:
    """Apply `changes` (EDITABLE fields) and re-plant: the queued next firing is replaced by the one
    the new rule gives. Raises PermissionDenied (jobs.change_schedule) or InvalidJob."""
    schedule_check_may(by=by, action="change")
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    values = schedule_clean(fields=changes, schedule=schedule)
    if values["handler"] != schedule.handler:
        handler_check_enqueue(user=by, spec=get_handler(values["handler"]))
    for name, value in values.items():
        setattr(schedule, name, value)
    schedule.updated_at = timezone.now()
    schedule.save()
    schedule_unplant(schedule=schedule)
    schedule_plant(schedule=schedule)
    return schedule


@transaction.atomic
def schedule_pause(*, schedule: Schedule, by=None) -> Schedule:
    """Stop firing: the queued next firing is removed; a running one goes on. Idempotent (keeps who
    paused it first). Raises PermissionDenied (jobs.change_schedule)."""
    schedule_check_may(by=by, action="change")
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    if schedule.paused_at is None:
        schedule.paused_at, schedule.paused_by = timezone.now(), _actor(by)
        schedule.save(update_fields=["paused_at", "paused_by"])
        schedule_unplant(schedule=schedule)
    return schedule


@transaction.atomic
def schedule_resume(*, schedule: Schedule, by=None) -> Schedule:
    """Fire again from the next tick after now (what the pause missed is not caught up). Idempotent."""
    schedule_check_may(by=by, action="change")
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    if schedule.paused_at is not None:
        schedule.paused_at, schedule.paused_by = None, None
        schedule.save(update_fields=["paused_at", "paused_by"])
        schedule_plant(schedule=schedule)
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: Schedule, by=None) -> None:
    """Remove the schedule and its queued next firing; past firings stay, unlinked. Raises
    ScheduleStateConflict for a built-in (pause it instead), PermissionDenied (jobs.delete_schedule)."""
    schedule_check_may(by=by, action="delete")
    if schedule.builtin:
        raise ScheduleStateConflict(f"Schedule {schedule.name!r} is built in: pause it rather than remove it.")
    schedule_unplant(schedule=schedule)
    schedule.delete()


@transaction.atomic
def schedule_run_now(*, schedule: Schedule, by=None) -> Job:
    """Enqueue one firing now, out of the rule (paused or not), requested by `by`: a job linked to the
    schedule with no `scheduled_for`. Raises PermissionDenied (jobs.change_schedule, the handler's
    enqueue permission), QuotaExceeded, or ScheduleStateConflict when the overlap policy is skip and
    a run is still going."""
    schedule_check_may(by=by, action="change")
    if schedule.overlap == Schedule.Overlap.SKIP and schedule.jobs.filter(status=Job.Status.RUNNING).exists():
        raise ScheduleStateConflict(f"Schedule {schedule.name!r} has a run still going (overlap policy: skip).")
    options = {key: getattr(schedule, key) for key in ("args", "queue", "priority", "max_attempts", "timeout")}
    if schedule.deadline_seconds:
        options["deadline"] = timezone.now() + timedelta(seconds=schedule.deadline_seconds)
    return job_enqueue(handler=schedule.handler, requested_by=by, schedule=schedule, **options)
