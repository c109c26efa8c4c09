from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import runner, services
from jobs.exceptions import DuplicateJob, InvalidJob, JobStateConflict, UnknownHandler
from jobs.models import Job, JobEvent
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def enqueue(handler="jobs.noop", **kwargs) -> Job:
    return services.job_enqueue(handler=handler, **kwargs)


def test_enqueue_records_a_queued_job_with_handler_defaults(settings):
    job = enqueue("jobs.sleep", args={"seconds": 0.01})
    assert job.status == Job.Status.QUEUED
    assert job.timeout == 3600  # the handler's own default
    assert job.max_attempts == settings.JOBS_DEFAULT_MAX_ATTEMPTS
    assert job.queue == "default"
    assert len(job.trace_id) == 32
    assert job.reserved_at is None


def test_unknown_handler_is_refused():
    with pytest.raises(UnknownHandler):
        enqueue("no.such.handler")
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("args", "field"),
    [({"nope": 1}, "args"), ([1, 2], "args"), ({"seconds": float("nan")}, "args")],
)
def test_args_the_handler_does_not_accept_are_refused(args, field):
    with pytest.raises(InvalidJob) as error:
        enqueue("jobs.sleep", args=args)
    assert field in error.value.errors


@pytest.mark.parametrize(
    ("options", "field"),
    [({"queue": "nowhere"}, "queue"), ({"timeout": 10**7}, "timeout"), ({"priority": 1000}, "priority")],
)
def test_bad_run_options_are_refused(options, field):
    with pytest.raises(InvalidJob) as error:
        enqueue(**options)
    assert field in error.value.errors


def start(job: Job, worker: str = "w") -> Job | None:
    """What a worker does with a job it was handed (no cluster: a direct start)."""
    return services.job_start(job_id=job.pk, cluster=None, worker=worker)


@pytest.mark.django_db(transaction=True)
def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs():
    with pytest.raises(RuntimeError), transaction.atomic():
        job = enqueue()
        raise RuntimeError("roll back")
    assert not Job.objects.exists()
    assert services.job_reserve(cluster="c", queues=["default"], capacity=5) == []
    runner.run(job.pk)
    assert not Job.objects.exists()


def test_enqueue_is_one_statement(django_assert_num_queries):
    with django_assert_num_queries(1):  # the INSERT (and on PostgreSQL its NOTIFY, in the same statement)
        enqueue()


def test_a_delayed_job_is_not_due_until_its_time():
    job = enqueue(delay=60)
    assert services.job_reserve(cluster="c", queues=["default"], capacity=5) == []
    assert start(job) is None
    later = timezone.now() + timedelta(seconds=61)
    assert services.job_reserve(cluster="c", queues=["default"], capacity=5, now=later) == [(job.pk, job.timeout)]


def test_run_records_success_with_history():
    job = enqueue("jobs.sleep", args={"seconds": 0, "steps": 2})
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == {"slept": 0}
    assert job.attempts == 1
    assert job.started_at <= job.finished_at
    assert list(job.events.values_list("kind", flat=True)) == ["started", "succeeded"]


def test_starting_a_job_is_one_statement_with_its_event_and_returns_the_whole_row():
    job = enqueue("jobs.sleep", args={"seconds": 0.01}, priority=5)
    with CaptureQueriesContext(connection) as queries:
        claimed = start(job, "w1")
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)  # SQLite: no DML in a CTE
    assert (claimed.status, claimed.attempts, claimed.worker) == (Job.Status.RUNNING, 1, "w1")
    assert (claimed.args, claimed.priority, claimed.trace_id) == ({"seconds": 0.01}, 5, job.trace_id)
    assert claimed.started_at == claimed.heartbeat_at is not None
    job.refresh_from_db()
    assert (job.status, job.attempts, job.started_at) == (Job.Status.RUNNING, 1, claimed.started_at)
    assert list(job.events.values_list("kind", "attempt", "message")) == [("started", 1, "w1")]  # visible at once


def test_a_second_delivery_of_a_claimed_job_is_a_no_op():
    job = enqueue()
    claimed = start(job, "w1")
    assert claimed is not None
    assert start(job, "w2") is None
    runner.run(job.pk)  # the duplicate delivery: nothing happens
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == (Job.Status.RUNNING, 1, "w1")


def test_delivery_for_an_unknown_job_is_ignored():
    runner.run(123456)
    assert not Job.objects.exists()


def test_failure_schedules_a_retry_with_backoff_then_fails_for_good():
    job = enqueue("jobs.fail", args={"message": "boom"}, max_attempts=2)
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert job.run_after > timezone.now()
    assert job.progress == {}  # the next attempt starts with none
    assert job.error["message"] == "boom"
    assert "RuntimeError" in job.error["traceback"]

    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.attempts == 2
    kinds = list(job.events.values_list("kind", flat=True))
    assert kinds == ["started", "retry_scheduled", "started", "failed"]


def test_a_permanent_error_skips_the_remaining_attempts():
    job = enqueue("jobs.fail", args={"permanent": True}, max_attempts=5)
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.attempts == 1
    assert job.error["type"] == "PermanentJobError"


def test_a_job_over_its_timeout_fails_the_attempt():
    job = enqueue("jobs.sleep", args={"seconds": 5, "steps": 1}, timeout=1, max_attempts=1)
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == {"type": "JobTimeout", "message": "timed out after 1 s", "traceback": ""}


def test_a_result_that_is_not_json_fails_the_job(monkeypatch, handler_registry):
    @handler_registry.handler("tests.not_json", max_attempts=1)
    def not_json(ctx):
        return {"when": object()}

    job = enqueue("tests.not_json")
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error["type"] == "TypeError"


def test_cancel_of_a_queued_job_is_immediate_and_it_never_runs(staff):
    job = enqueue()
    services.job_cancel(job=job, by=staff)
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.attempts == 0
    event = job.events.get()
    assert (event.kind, event.actor) == (JobEvent.Kind.CANCELLED, staff)


def test_cancel_of_a_running_job_stops_it_at_the_next_check(staff):
    job = enqueue("jobs.sleep", args={"seconds": 0, "steps": 3})
    start(job)
    job.refresh_from_db()
    services.job_cancel(job=job, by=staff)
    services.job_cancel(job=job, by=staff)  # asking twice is harmless
    from jobs.context import JobContext
    from jobs.exceptions import JobCancelled

    with pytest.raises(JobCancelled):
        JobContext(job).raise_if_cancelled()
    assert job.events.filter(kind=JobEvent.Kind.CANCEL_REQUESTED).count() == 1


@pytest.mark.parametrize("status", [Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED])
def test_cancel_of_a_finished_job_is_a_conflict(status):
    job = JobFactory(status=status)
    with pytest.raises(JobStateConflict):
        services.job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == status


def test_retry_queues_a_failed_job_again_and_keeps_its_history(staff):
    job = enqueue("jobs.fail", args={"succeed_on_attempt": 2}, max_attempts=1)
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED

    services.job_retry(job=job, by=staff)
    assert (job.status, job.attempts, job.error) == (Job.Status.QUEUED, 0, None)
    runner.run(job.pk)
    job.refresh_from_db()
    # attempts start again, so succeed_on_attempt=2 is not reached: it fails again, recorded twice
    assert job.status == Job.Status.FAILED
    kinds = list(job.events.values_list("kind", flat=True))
    assert kinds == ["started", "failed", "retried", "started", "failed"]


def test_an_expired_job_can_be_retried_and_loses_its_deadline():
    job = JobFactory(status=Job.Status.EXPIRED, deadline=timezone.now())
    services.job_retry(job=job)
    job.refresh_from_db()
    assert (job.status, job.deadline) == (Job.Status.QUEUED, None)


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.SUCCEEDED])
def test_retry_of_an_unfinished_or_succeeded_job_is_a_conflict(status):
    job = JobFactory(status=status)
    with pytest.raises(JobStateConflict):
        services.job_retry(job=job)
    assert Job.objects.get(pk=job.pk).status == status


def test_a_unique_key_admits_one_active_job_at_a_time():
    first = enqueue(unique_key="nightly")
    with pytest.raises(DuplicateJob) as error:
        enqueue(unique_key="nightly")
    assert error.value.existing_id == first.pk
    services.job_cancel(job=first)
    assert enqueue(unique_key="nightly").pk != first.pk


def test_retry_refuses_when_the_unique_key_was_taken_meanwhile():
    first = enqueue(unique_key="k")
    services.job_cancel(job=first)
    enqueue(unique_key="k")
    with pytest.raises(DuplicateJob):
        services.job_retry(job=first)
    assert Job.objects.get(pk=first.pk).status == Job.Status.CANCELLED


def test_a_stale_running_job_is_requeued_with_its_attempt_counted(settings):
    job = enqueue(max_attempts=2)
    start(job, "dead:1")
    later = timezone.now() + timedelta(seconds=settings.JOBS_STALE_SECONDS + 1)
    assert services.job_requeue_stale(now=later) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.reserved_by) == (Job.Status.QUEUED, 1, "")
    assert job.error["type"] == "WorkerLost"
    assert list(job.events.values_list("kind", flat=True)) == ["started", "requeued"]


def test_a_stale_job_out_of_attempts_fails_and_a_cancelled_one_ends_cancelled():
    spent = enqueue(max_attempts=1)
    asked = enqueue(max_attempts=3)
    for job in (spent, asked):
        start(job, "dead:1")
    services.job_cancel(job=asked)
    assert services.job_requeue_stale(now=timezone.now() + timedelta(minutes=5)) == 2
    assert Job.objects.get(pk=spent.pk).status == Job.Status.FAILED
    assert Job.objects.get(pk=asked.pk).status == Job.Status.CANCELLED


def test_a_live_heartbeat_keeps_a_job_running():
    job = enqueue()
    claimed = start(job)
    assert services.job_heartbeat(job=claimed) is None
    assert services.job_requeue_stale() == 0


def test_an_outcome_from_a_worker_that_lost_the_job_is_dropped():
    job = enqueue(max_attempts=3)
    claimed = start(job, "slow:1")
    services.job_requeue_stale(now=timezone.now() + timedelta(minutes=5))
    assert services.job_succeed(job=claimed, result=1) is False
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_handler_log_lines_join_the_history():
    from jobs.context import JobContext

    job = enqueue()
    claimed = start(job)
    JobContext(claimed).log("half way")
    assert job.events.get(kind=JobEvent.Kind.LOG).message == "half way"
