"""Schedule services: create, edit, pause, resume, remove, run now; validation per field."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import services
from jobs.exceptions import InvalidJob, ScheduleStateConflict
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
    with pytest.raises(InvalidJob) as caught:
        make(name="Bad Name", handler="no.such", cron="99 * * *", timezone="Mars/Olympus", jitter_seconds=99999)
    assert set(caught.value.errors) == {"name", "handler", "cron", "timezone", "jitter_seconds"}
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_bad_args_are_refused_by_the_handlers_signature():
    with pytest.raises(InvalidJob) as caught:
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
