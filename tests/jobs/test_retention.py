"""Retention: finished jobs older than their status's age go with their events, in batches; active jobs
never do; a dry run only counts. The command, the handlers and the settings check."""

import json
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import runner, services
from jobs.exceptions import JobCancelled
from jobs.management import cli
from jobs.models import IdempotencyRecord, Job, JobDependency, JobEvent
from jobs.services import retention
from tests.commands.call import run_command
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db
DAY = 86400


@pytest.fixture(autouse=True)
def ages(settings):
    settings.JOBS_RETAIN_SUCCEEDED_SECONDS = 7 * DAY
    settings.JOBS_RETAIN_FAILED_SECONDS = 30 * DAY
    settings.JOBS_RETAIN_CANCELLED_SECONDS = 7 * DAY
    settings.JOBS_RETAIN_EXPIRED_SECONDS = 7 * DAY
    settings.JOBS_PRUNE_BATCH = 1000
    settings.JOBS_PRUNE_PAUSE_SECONDS = 0


def finished(status: str, days_ago: float, events: int = 2) -> Job:
    """A job that ended `days_ago` days ago in `status`, with `events` events."""
    job = JobFactory(status=status, finished_at=timezone.now() - timedelta(days=days_ago), requested_by=None)
    for _ in range(events):
        JobEvent.objects.create(job=job, kind=JobEvent.Kind.LOG, message="line")
    return job


def remaining() -> set[int]:
    return set(Job.objects.values_list("pk", flat=True))


def test_each_final_status_keeps_its_own_age():
    old_success, new_success = finished("succeeded", 8), finished("succeeded", 6)
    old_failure, young_failure = finished("failed", 31), finished("failed", 8)
    old_cancel, old_expired = finished("cancelled", 8), finished("expired", 8)
    report = services.job_prune()
    assert remaining() == {new_success.pk, young_failure.pk}
    assert report.jobs == {"succeeded": 1, "failed": 1, "cancelled": 1, "expired": 1}
    assert {old_success.pk, old_failure.pk, old_cancel.pk, old_expired.pk}.isdisjoint(remaining())


def test_ages_can_be_overridden_per_call():
    failure = finished("failed", 8)
    services.job_prune(ages={"failed": 7 * DAY})
    assert failure.pk not in remaining()


def test_active_jobs_are_never_deleted_whatever_their_dates(settings):
    for name in ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED"):
        setattr(settings, f"JOBS_RETAIN_{name}_SECONDS", 0)
    long_ago = timezone.now() - timedelta(days=365)
    active = [JobFactory(status=status, finished_at=long_ago, created_at=long_ago) for status in Job.ACTIVE]
    report = services.job_prune()
    assert remaining() == {job.pk for job in active}
    assert report.total_jobs == 0


def test_events_go_with_their_jobs_and_others_stay():
    old, kept = finished("succeeded", 8, events=3), finished("succeeded", 1, events=2)
    report = services.job_prune()
    assert not JobEvent.objects.filter(job_id=old.pk).exists()
    assert JobEvent.objects.filter(job=kept).count() == 2
    assert report.events["succeeded"] == 3 and report.total_events == 3


@pytest.mark.django_db(transaction=True)  # the links' deferred foreign keys are checked at a real commit
def test_dependency_links_go_with_a_pruned_job_on_either_side():
    old, kept_upstream = finished("succeeded", 8), finished("succeeded", 1)
    kept_dependant = JobFactory(status="waiting", requested_by=None)
    JobDependency.objects.create(job=old, depends_on=kept_upstream)
    JobDependency.objects.create(job=kept_dependant, depends_on=old)
    JobDependency.objects.create(job=kept_dependant, depends_on=kept_upstream)
    services.job_prune()
    assert remaining() == {kept_upstream.pk, kept_dependant.pk}
    assert list(JobDependency.objects.values_list("job", "depends_on")) == [(kept_dependant.pk, kept_upstream.pk)]


def test_a_small_batch_deletes_in_several_transactions_and_reports_each():
    for _ in range(5):
        finished("succeeded", 8)
    seen = []
    report = services.job_prune(batch=2, on_batch=seen.append)
    assert seen == [2, 2, 1]
    assert report.batches == 3 and report.jobs["succeeded"] == 5
    assert remaining() == set()


def test_a_batch_costs_the_same_statements_however_many_jobs_it_holds():
    def statements(jobs: int) -> int:
        for _ in range(jobs):
            finished("succeeded", 8)
        with CaptureQueriesContext(connection) as captured:
            assert services.job_prune(batch=100).jobs["succeeded"] == jobs
        return len(captured)

    assert statements(2) == statements(40)  # set-based: no row loaded, no per-job delete or signal


def test_the_prune_pauses_between_batches_not_after_the_last(monkeypatch, settings):
    settings.JOBS_PRUNE_PAUSE_SECONDS = 0.25
    slept = []
    monkeypatch.setattr(retention.time, "sleep", slept.append)
    for _ in range(5):
        finished("succeeded", 8)
    services.job_prune(batch=2)
    assert slept == [0.25, 0.25]


def test_jobs_that_finished_at_the_same_moment_all_go_across_batches():
    same = timezone.now() - timedelta(days=8)
    for _ in range(5):
        JobFactory(status="succeeded", finished_at=same)
    assert services.job_prune(batch=2).jobs["succeeded"] == 5
    assert remaining() == set()


def test_a_batch_deletes_the_oldest_first_and_stays_deleted_when_the_prune_stops():
    oldest, older, old = finished("succeeded", 30), finished("succeeded", 20), finished("succeeded", 10)

    def cancelled(deleted: int) -> None:
        raise JobCancelled()

    with pytest.raises(JobCancelled):
        services.job_prune(batch=2, on_batch=cancelled)
    assert remaining() == {old.pk}  # the first batch committed before the callback stopped the prune
    assert {oldest.pk, older.pk}.isdisjoint(remaining())


def test_dry_run_deletes_nothing_and_counts_what_a_prune_deletes():
    finished("succeeded", 8, events=2), finished("failed", 31, events=1), finished("failed", 2)
    before = (remaining(), JobEvent.objects.count())
    dry = services.job_prune(dry_run=True)
    assert (remaining(), JobEvent.objects.count()) == before
    real = services.job_prune()
    assert (dry.jobs, dry.events) == (real.jobs, real.events)
    assert dry.total_jobs == 2 and dry.total_events == 3


def test_a_batch_outside_its_bounds_is_refused():
    with pytest.raises(ValueError):
        services.job_prune(batch=0)


def test_command_prints_per_status_counts():
    finished("succeeded", 8), finished("cancelled", 8, events=0)
    result = run_command("jobs_prune", "--batch", "1", "--pause", "0")
    assert result.code == cli.OK
    lines = result.out.splitlines()
    assert lines[0].startswith("succeeded: deleted 1 jobs, 2 events (finished before ")
    assert lines[2].startswith("cancelled: deleted 1 jobs, 0 events")
    assert lines[-1] == "Deleted 2 jobs and 2 events."
    assert remaining() == set()


def test_command_dry_run_changes_nothing():
    job = finished("expired", 8)
    result = run_command("jobs_prune", "--dry-run")
    assert result.code == cli.OK
    assert "expired: would delete 1 jobs, 2 events" in result.out
    assert result.out.splitlines()[-1] == "Would delete 1 jobs and 2 events; nothing changed (--dry-run)."
    assert remaining() == {job.pk}


def test_command_json():
    finished("failed", 31, events=1)
    data = json.loads(run_command("jobs_prune", "--json").out)
    assert data == {
        "dry_run": False, "jobs": {"succeeded": 0, "failed": 1, "cancelled": 0, "expired": 0},
        "events": {"succeeded": 0, "failed": 1, "cancelled": 0, "expired": 0}, "total_jobs": 1, "total_events": 1,
        "batches": 1, "longest_batch_seconds": data["longest_batch_seconds"],
    }  # fmt: skip


@pytest.mark.parametrize(
    "option, value",
    [("--batch", "0"), ("--batch", "-5"), ("--batch", "ten"), ("--batch", "10001"), ("--pause", "-1"), ("--pause", "soon")],
)
def test_command_refuses_a_bad_option_and_deletes_nothing(option, value):
    job = finished("succeeded", 8)
    result = run_command("jobs_prune", option, value)
    assert result.code == cli.USAGE
    assert option in result.err
    assert remaining() == {job.pk}


def test_prune_handler_runs_the_service_and_returns_its_report():
    old = finished("succeeded", 8)
    job = services.job_enqueue(handler="jobs.prune")
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["jobs"]["succeeded"] == 1 and job.result["total_events"] == 2
    assert job.progress["done"] == 1
    assert old.pk not in remaining()


def test_idempotency_prune_handler_deletes_old_records(settings):
    settings.JOBS_IDEMPOTENCY_SECONDS = 60
    IdempotencyRecord.objects.create(user=UserFactory(), key="k", fingerprint="f", status_code=202,
                                     created_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    job = services.job_enqueue(handler="jobs.idempotency_prune")
    runner.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.result) == (Job.Status.SUCCEEDED, {"deleted": 1})
    assert not IdempotencyRecord.objects.exists()


def test_negative_ages_and_a_bad_batch_fail_the_system_check(settings):
    settings.JOBS_RETAIN_FAILED_SECONDS = -1
    settings.JOBS_PRUNE_BATCH = 0
    settings.JOBS_PRUNE_PAUSE_SECONDS = -0.5
    ids = {error.id for error in run_checks()}
    assert {"jobs.E004", "jobs.E005"} <= ids
