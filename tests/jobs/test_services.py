from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from jobs import runner, services
from jobs.exceptions import DuplicateJob, InvalidJob, JobStateConflict, UnknownHandler
from jobs.models import Job, JobEvent
from tests.brokers import dispatched_job_ids, queued_payloads
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
    assert job.dispatched_at is not None


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


@pytest.mark.django_db(transaction=True)
def test_a_job_enqueued_in_a_rolled_back_transaction_never_reaches_the_broker():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue()
        raise RuntimeError("roll back")
    assert not Job.objects.exists()
    assert dispatched_job_ids() == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_job_is_dispatched_after_commit():
    with transaction.atomic():
        job = enqueue()
        if not runner.dispatch_is_transactional():
            assert dispatched_job_ids() == []  # Redis: not before commit (the ORM broker row commits with the job)
    [task] = queued_payloads()
    assert (task["func"], task["args"]) == (runner.RUN, (job.pk,))  # only the id travels


def test_a_delayed_job_waits_for_the_pump():
    job = enqueue(delay=60)
    assert job.dispatched_at is None
    assert services.job_dispatch_due() == 0
    assert services.job_dispatch_due(now=timezone.now() + timedelta(seconds=61)) == 1
    job.refresh_from_db()
    assert job.dispatched_at is not None


def test_the_pump_dispatches_higher_priority_first(django_capture_on_commit_callbacks):
    low = JobFactory(priority=0)
    high = JobFactory(priority=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_dispatch_due() == 2
    assert dispatched_job_ids() == [high.pk, low.pk]


def test_run_records_success_with_history():
    job = enqueue("jobs.sleep", args={"seconds": 0, "steps": 2})
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == {"slept": 0}
    assert job.attempts == 1
    assert job.started_at <= job.finished_at
    assert list(job.events.values_list("kind", flat=True)) == ["started", "succeeded"]


def test_claiming_a_due_job_is_one_statement_and_returns_the_whole_row(django_assert_num_queries):
    job = enqueue("jobs.sleep", args={"seconds": 0.01}, priority=5)
    with django_assert_num_queries(1):
        claimed = services.job_claim(job_id=job.pk, worker="w1")
    assert (claimed.status, claimed.attempts, claimed.worker) == (Job.Status.RUNNING, 1, "w1")
    assert (claimed.args, claimed.priority, claimed.trace_id) == ({"seconds": 0.01}, 5, job.trace_id)
    assert claimed.started_at == claimed.heartbeat_at is not None
    job.refresh_from_db()
    assert (job.status, job.attempts, job.started_at) == (Job.Status.RUNNING, 1, claimed.started_at)


def test_a_second_delivery_of_a_claimed_job_is_a_no_op():
    job = enqueue()
    claimed = services.job_claim(job_id=job.pk, worker="w1")
    assert claimed is not None
    assert services.job_claim(job_id=job.pk, worker="w2") is None
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
    assert job.dispatched_at is None  # the pump sends it when the backoff ends
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
    services.job_claim(job_id=job.pk, worker="w")
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


def test_a_concurrency_limit_defers_the_claim_until_a_slot_frees(handler_registry):
    @handler_registry.handler("tests.exclusive", concurrency_limit=1, concurrency_key=lambda args: args["catalogue"])
    def exclusive(ctx, *, catalogue):
        return catalogue

    first = enqueue("tests.exclusive", args={"catalogue": "a"})
    second = enqueue("tests.exclusive", args={"catalogue": "a"})
    other = enqueue("tests.exclusive", args={"catalogue": "b"})
    assert services.job_claim(job_id=first.pk, worker="w") is not None
    assert services.job_claim(job_id=second.pk, worker="w") is None
    assert services.job_claim(job_id=other.pk, worker="w") is not None
    second.refresh_from_db()
    assert (second.status, second.dispatched_at) == (Job.Status.QUEUED, None)  # back to the pump


def test_a_stale_running_job_is_requeued_with_its_attempt_counted(settings):
    job = enqueue(max_attempts=2)
    services.job_claim(job_id=job.pk, worker="dead:1")
    later = timezone.now() + timedelta(seconds=settings.JOBS_STALE_SECONDS + 1)
    assert services.job_requeue_stale(now=later) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.dispatched_at) == (Job.Status.QUEUED, 1, None)
    assert job.error["type"] == "WorkerLost"
    assert list(job.events.values_list("kind", flat=True)) == ["started", "requeued"]


def test_a_stale_job_out_of_attempts_fails_and_a_cancelled_one_ends_cancelled():
    spent = enqueue(max_attempts=1)
    asked = enqueue(max_attempts=3)
    for job in (spent, asked):
        services.job_claim(job_id=job.pk, worker="dead:1")
    services.job_cancel(job=asked)
    assert services.job_requeue_stale(now=timezone.now() + timedelta(minutes=5)) == 2
    assert Job.objects.get(pk=spent.pk).status == Job.Status.FAILED
    assert Job.objects.get(pk=asked.pk).status == Job.Status.CANCELLED


def test_a_live_heartbeat_keeps_a_job_running():
    job = enqueue()
    claimed = services.job_claim(job_id=job.pk, worker="w")
    assert services.job_heartbeat(job=claimed) is None
    assert services.job_requeue_stale() == 0


def test_an_outcome_from_a_worker_that_lost_the_job_is_dropped():
    job = enqueue(max_attempts=3)
    claimed = services.job_claim(job_id=job.pk, worker="slow:1")
    services.job_requeue_stale(now=timezone.now() + timedelta(minutes=5))
    assert services.job_succeed(job=claimed, result=1) is False
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_jobs_lost_by_the_broker_are_released_to_the_pump(settings):
    job = enqueue()
    Job.objects.filter(pk=job.pk).update(dispatched_at=timezone.now() - timedelta(minutes=10))
    assert services.job_release_undelivered(queue="default") == 1
    job.refresh_from_db()
    assert job.dispatched_at is None


def test_handler_log_lines_join_the_history():
    from jobs.context import JobContext

    job = enqueue()
    claimed = services.job_claim(job_id=job.pk, worker="w")
    JobContext(claimed).log("half way")
    assert job.events.get().message == "half way"


def test_the_pump_hands_out_only_free_concurrency_slots(django_capture_on_commit_callbacks, handler_registry):
    @handler_registry.handler("tests.one_at_a_time", concurrency_limit=1)
    def one_at_a_time(ctx):
        return None

    first, second = enqueue("tests.one_at_a_time"), enqueue("tests.one_at_a_time")
    assert first.dispatched_at is None  # left to the pump
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_dispatch_due() == 1
    assert dispatched_job_ids() == [first.pk]
    runner.run(first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_dispatch_due() == 1  # the slot is free again
    assert dispatched_job_ids()[-1] == second.pk
