"""Firing: the runner starts a planted job, plants the next one, and applies catch-up and overlap."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import runner, services
from jobs.models import Job, Schedule
from tests.factories import JobFactory

HOUR = timedelta(hours=1)


def hourly(**fields) -> Schedule:
    """An every-hour interval schedule whose grid started `ago` (default 2 h 10 min) ago, exactly."""
    fields = {"name": "hourly", "handler": "jobs.noop", "interval_seconds": 3600, **fields}
    schedule = services.schedule_create(**fields)
    origin = (timezone.now() - 2 * HOUR - timedelta(minutes=10)).replace(microsecond=0)
    Schedule.objects.filter(pk=schedule.pk).update(created_at=origin)
    schedule.refresh_from_db()
    return schedule


def planted_at(schedule: Schedule, tick) -> Job:
    """Move the schedule's planted firing to `tick` (due now or overdue), as if the clusters were down."""
    job = Job.objects.get(schedule=schedule, status=Job.Status.QUEUED)
    Job.objects.filter(pk=job.pk).update(scheduled_for=tick, run_after=tick)
    return job


def firings(schedule: Schedule) -> dict:
    return {job.scheduled_for - schedule.created_at: job.status for job in schedule.jobs.order_by("scheduled_for")}


@pytest.mark.django_db
def test_a_firing_on_time_runs_and_plants_the_next():
    schedule = hourly()
    job = planted_at(schedule, schedule.created_at + 2 * HOUR)
    runner.run(job.pk)
    assert firings(schedule) == {2 * HOUR: "succeeded", 3 * HOUR: "queued"}
    assert Schedule.objects.get().next_run_at == schedule.created_at + 3 * HOUR


@pytest.mark.django_db
def test_catch_up_once_runs_the_missed_firing_once():
    schedule = hourly(catch_up="once")
    runner.run(planted_at(schedule, schedule.created_at).pk)
    assert firings(schedule) == {timedelta(0): "succeeded", 3 * HOUR: "queued"}


@pytest.mark.django_db
def test_catch_up_skip_cancels_the_missed_firing():
    schedule = hourly(catch_up="skip")
    job = planted_at(schedule, schedule.created_at)
    runner.run(job.pk)
    assert firings(schedule) == {timedelta(0): "cancelled", 3 * HOUR: "queued"}
    assert job.events.last().message.startswith("missed")


@pytest.mark.django_db
def test_catch_up_all_runs_each_missed_firing():
    schedule = hourly(catch_up="all")
    runner.run(planted_at(schedule, schedule.created_at).pk)
    assert firings(schedule) == {timedelta(0): "succeeded", HOUR: "queued", 2 * HOUR: "queued"}
    for job in Job.objects.filter(status=Job.Status.QUEUED).order_by("scheduled_for"):
        runner.run(job.pk)
    assert firings(schedule) == {
        timedelta(0): "succeeded", HOUR: "succeeded", 2 * HOUR: "succeeded", 3 * HOUR: "queued"
    }


@pytest.mark.django_db
def test_catch_up_all_stops_at_its_limit():
    schedule = hourly(catch_up="all", catch_up_limit=2)
    runner.run(planted_at(schedule, schedule.created_at).pk)
    assert firings(schedule) == {timedelta(0): "succeeded", 2 * HOUR: "queued"}


def previous_run(schedule: Schedule) -> Job:
    started = timezone.now() - timedelta(minutes=5)
    return JobFactory(schedule=schedule, scheduled_for=schedule.created_at + HOUR, status=Job.Status.RUNNING,
                      started_at=started, heartbeat_at=timezone.now(), attempts=1)  # fmt: skip


@pytest.mark.django_db
def test_overlap_skip_cancels_the_new_firing_while_the_previous_runs():
    schedule = hourly(overlap="skip")
    previous = previous_run(schedule)
    job = planted_at(schedule, schedule.created_at + 2 * HOUR)
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and "still going" in job.events.last().message
    assert Job.objects.get(pk=previous.pk).status == Job.Status.RUNNING
    assert firings(schedule)[3 * HOUR] == "queued"


@pytest.mark.django_db
def test_overlap_allow_runs_both():
    schedule = hourly(overlap="allow")
    previous = previous_run(schedule)
    runner.run(planted_at(schedule, schedule.created_at + 2 * HOUR).pk)
    assert firings(schedule)[2 * HOUR] == "succeeded"
    assert Job.objects.get(pk=previous.pk).cancel_requested_at is None


@pytest.mark.django_db
def test_overlap_cancel_asks_the_previous_to_stop_and_runs():
    schedule = hourly(overlap="cancel")
    previous = previous_run(schedule)
    runner.run(planted_at(schedule, schedule.created_at + 2 * HOUR).pk)
    assert firings(schedule)[2 * HOUR] == "succeeded"
    assert Job.objects.get(pk=previous.pk).cancel_requested_at is not None


@pytest.mark.django_db
def test_a_failed_firing_retries_without_a_second_next_firing():
    schedule = hourly(handler="jobs.fail", args={"succeed_on_attempt": 2}, max_attempts=2)
    job = planted_at(schedule, schedule.created_at + 2 * HOUR)
    runner.run(job.pk)
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    runner.run(job.pk)
    assert firings(schedule) == {2 * HOUR: "succeeded", 3 * HOUR: "queued"}


@pytest.mark.django_db
def test_the_upkeep_replants_a_schedule_that_lost_its_next_firing():
    schedule = hourly()
    Job.objects.filter(schedule=schedule).delete()  # a worker died between the start and the planting
    assert services.schedule_plant_missing() == 1
    assert firings(schedule) == {3 * HOUR: "queued"}


@pytest.mark.django_db
def test_a_cancelled_planted_firing_is_skipped_not_replanted():
    schedule = hourly()
    services.job_cancel(job=planted_at(schedule, schedule.created_at + 3 * HOUR))
    assert services.schedule_plant_missing() == 0
    assert firings(schedule) == {3 * HOUR: "cancelled"}


@pytest.mark.django_db
def test_a_one_time_schedule_fires_once():
    run_at = timezone.now() + HOUR
    schedule = services.schedule_create(name="once", handler="jobs.noop", run_at=run_at)
    job = Job.objects.get(schedule=schedule)
    assert schedule.kind == "once" and job.scheduled_for == run_at
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    runner.run(job.pk)
    assert services.schedule_plant_missing() == 0
    assert list(schedule.jobs.values_list("status", flat=True)) == ["succeeded"]
    assert Schedule.objects.get().next_run_at is None


@pytest.mark.django_db
def test_run_now_with_overlap_skip_while_a_run_goes_on_is_a_conflict():
    from jobs.exceptions import ScheduleStateConflict

    schedule = hourly(overlap="skip")
    previous_run(schedule)
    with pytest.raises(ScheduleStateConflict):
        services.schedule_run_now(schedule=schedule)


@pytest.mark.django_db
def test_builtins_are_created_only_for_registered_handlers(settings):
    settings.JOBS_BUILTIN_SCHEDULES = [
        {"name": "tick", "handler": "jobs.noop", "cron": "0 * * * *"},
        {"name": "elsewhere", "handler": "not.registered.yet", "cron": "0 * * * *"},
    ]
    assert services.schedule_ensure_builtins() == 1
    assert services.schedule_ensure_builtins() == 0
    schedule = Schedule.objects.get()
    assert schedule.name == "tick" and schedule.builtin and schedule.jobs.count() == 1


@pytest.mark.django_db
def test_the_retention_builtins_by_default_and_none_when_turned_off(settings):
    settings.JOBS_BUILTIN_SCHEDULES = []  # JOBS_BUILTIN_SCHEDULES=false
    assert services.schedule_ensure_builtins() == 0
    settings.JOBS_BUILTIN_SCHEDULES = None  # the default: the list in jobs/builtin_schedules.py
    assert services.schedule_ensure_builtins() == 3
    assert dict(Schedule.objects.values_list("handler", "builtin")) == {
        "jobs.prune": True, "jobs.idempotency_prune": True, "updater.prune_feeds": True,
    }  # fmt: skip
    assert Job.objects.filter(schedule__builtin=True, status=Job.Status.QUEUED).count() == 3  # each planted


@pytest.mark.django_db
def test_builtins_keep_their_operators_edits(settings):
    settings.JOBS_BUILTIN_SCHEDULES = [{"name": "tick", "handler": "jobs.noop", "cron": "0 * * * *"}]
    services.schedule_ensure_builtins()
    services.schedule_update(schedule=Schedule.objects.get(), cron="30 * * * *")
    services.schedule_ensure_builtins()
    assert Schedule.objects.get().cron == "30 * * * *"


@pytest.mark.django_db
def test_a_one_time_schedule_resumed_after_its_time_does_not_fire():
    schedule = services.schedule_create(name="once", handler="jobs.noop", run_at=timezone.now() + HOUR)
    services.schedule_pause(schedule=schedule)
    Schedule.objects.filter(pk=schedule.pk).update(run_at=timezone.now() - HOUR)
    services.schedule_resume(schedule=schedule)
    assert not schedule.jobs.exists() and Schedule.objects.get().next_run_at is None


@pytest.mark.django_db
def test_a_firings_bookkeeping_stays_within_its_statement_budget():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    schedule = hourly()
    job = planted_at(schedule, schedule.created_at + 2 * HOUR)
    started = services.job_start(job_id=job.pk, cluster=None, worker="w")
    with CaptureQueriesContext(connection) as queries:
        assert services.schedule_fire(job=started) is True
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN"))]
    assert len(statements) <= 7, statements  # docs/ARCHITECTURE.md: read, plant (5), overlap read
