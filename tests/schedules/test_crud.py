"""Schedule services: create, edit, pause, resume, remove, run now; validation per field."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import services
from jobs.exceptions import InvalidSchedule, ScheduleStateConflict
from jobs.models import Job, Schedule


def planted(schedule) -> list[Job]:
    return list(Job.objects.filter(schedule=schedule, status=Job.Status.QUEUED, attempts=0).order_by("scheduled_for"))


def make(**fields) -> Schedule:
    fields = {"name": "nightly", "handler": "jobs.noop", "cron": "0 3 * * *", **fields}
    return services.schedule_create(**fields)


@pytest.mark.django_db
def test_create_plants_the_next_firing_as_a_queued_job():
    schedule = make(timezone="Europe/Paris")
    [job] = planted(schedule)
    assert job.handler == "jobs.noop" and job.scheduled_for == job.run_after == schedule.next_run_at
    local = job.scheduled_for.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert (local.hour, local.minute) == (3, 0)
    assert schedule.kind == Schedule.Kind.CRON


@pytest.mark.django_db
def test_plant_is_idempotent():
    schedule = make()
    assert services.schedule_plant(schedule=schedule) == 0
    assert services.schedule_plant_missing() == 0
    assert len(planted(schedule)) == 1


@pytest.mark.django_db
def test_bad_fields_are_refused_each_with_its_message():
    with pytest.raises(InvalidSchedule) as caught:
        make(name="Bad Name", handler="no.such", cron="99 * * *", timezone="Mars/Olympus", jitter_seconds=99999)
    assert set(caught.value.errors) == {"name", "handler", "cron", "timezone", "jitter_seconds"}
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_bad_args_are_refused_by_the_handlers_signature():
    with pytest.raises(InvalidSchedule) as caught:
        make(handler="jobs.sleep", args={"seconds": "long"})
    assert "args" in caught.value.errors


@pytest.mark.django_db
def test_edit_replants_by_the_new_rule():
    schedule = make()
    services.schedule_update(schedule=schedule, kind="interval", interval_seconds=60)
    [job] = planted(schedule)
    assert timezone.now() < job.scheduled_for <= timezone.now() + timedelta(seconds=60)


@pytest.mark.django_db
def test_pause_removes_the_planted_firing_and_resume_plants_it_again():
    schedule = make()
    services.schedule_pause(schedule=schedule)
    assert planted(schedule) == [] and Schedule.objects.get().next_run_at is None
    services.schedule_resume(schedule=schedule)
    assert len(planted(schedule)) == 1


@pytest.mark.django_db
def test_delete_removes_schedule_and_planted_firing():
    schedule = make()
    services.schedule_delete(schedule=schedule)
    assert not Schedule.objects.exists() and not Job.objects.exists()


@pytest.mark.django_db
def test_builtin_cannot_be_removed():
    schedule = services.schedule_create(name="b", handler="jobs.noop", cron="0 * * * *", builtin=True)
    with pytest.raises(ScheduleStateConflict):
        services.schedule_delete(schedule=schedule)


@pytest.mark.django_db
def test_run_now_enqueues_a_linked_job_due_now():
    schedule = make()
    job = services.schedule_run_now(schedule=schedule)
    assert job.schedule_id == schedule.pk and job.scheduled_for is None and job.status == Job.Status.QUEUED
    assert job.run_after <= timezone.now()


@pytest.mark.django_db
def test_jitter_delays_run_after_within_its_bound():
    schedule = make(jitter_seconds=30)
    [job] = planted(schedule)
    assert job.scheduled_for <= job.run_after <= job.scheduled_for + timedelta(seconds=30)


@pytest.mark.django_db
def test_a_builtin_keeps_its_name():
    schedule = services.schedule_create(name="b", handler="jobs.noop", cron="0 * * * *", builtin=True)
    with pytest.raises(InvalidSchedule) as caught:
        services.schedule_update(schedule=schedule, name="renamed")
    assert "name" in caught.value.errors
    assert services.schedule_update(schedule=schedule, cron="5 * * * *").cron == "5 * * * *"


@pytest.mark.django_db
def test_options_fall_back_to_the_handlers_defaults_and_are_checked():
    schedule = make(handler="jobs.sleep")
    [job] = planted(schedule)
    assert (job.timeout, job.queue) == (3600, "default")
    with pytest.raises(InvalidSchedule) as caught:
        make(name="other", queue="nowhere", priority=500)
    assert set(caught.value.errors) == {"queue", "priority"}


@pytest.mark.django_db
def test_a_one_time_schedule_in_the_past_is_refused():
    with pytest.raises(InvalidSchedule) as caught:
        services.schedule_create(name="late", handler="jobs.noop", run_at=timezone.now() - timedelta(minutes=1))
    assert list(caught.value.errors) == ["run_at"]


@pytest.mark.django_db
def test_next_runs_preview_follows_the_rule():
    schedule = make(kind="interval", interval_seconds=60, cron="")
    runs = services.schedule_next_runs(schedule=schedule, count=3)
    assert [b - a for a, b in zip(runs, runs[1:])] == [timedelta(seconds=60)] * 2


@pytest.mark.django_db
def test_none_clears_an_option_or_restores_a_default():
    schedule = make(queue="default", priority=5, jitter_seconds=10)
    schedule = services.schedule_update(schedule=schedule, queue=None, priority=None, jitter_seconds=None,
                                        timezone=None)  # fmt: skip
    assert (schedule.queue, schedule.priority, schedule.jitter_seconds, schedule.timezone) == (None, None, 0, "UTC")
