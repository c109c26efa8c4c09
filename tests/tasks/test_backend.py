"""django.tasks on our jobs, through the standard API: enqueue, run (in-process), read the result."""

from datetime import datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, default_task_backend, task_backends
from django_tasks.exceptions import InvalidTaskError, TaskResultDoesNotExist

from jobs import runner, services
from jobs.models import Job
from tests.factories import JobFactory
from tests.tasks import tasks

pytestmark = pytest.mark.django_db


def run(result) -> None:
    runner.run(int(result.id))
    result.refresh()


def test_enqueue_writes_a_queued_job_and_answers_a_ready_result():
    result = tasks.add.enqueue(2, b=3)

    job = Job.objects.get(pk=result.id)
    assert result.status == TaskResultStatus.READY
    assert job.status == Job.Status.QUEUED
    assert job.handler == "tests.tasks.tasks.add" == tasks.add.module_path
    assert job.args == {"args": [2], "kwargs": {"b": 3}}
    assert (result.args, result.kwargs) == ([2], {"b": 3})
    assert result.enqueued_at == job.created_at
    assert result.backend == "default"


def test_a_run_task_gives_a_successful_result_with_its_return_value():
    result = tasks.add.enqueue(2, 3)

    run(result)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.is_finished
    assert result.return_value == 5
    assert result.attempts == 1
    assert result.started_at <= result.finished_at
    assert result.errors == []
    assert Job.objects.get(pk=result.id).result == 5


def test_a_failed_attempt_is_retried_and_the_result_shows_each_attempt():
    result = tasks.flaky.enqueue(succeed_on_attempt=2)

    run(result)
    assert result.status == TaskResultStatus.READY  # waiting for its retry
    assert result.errors[0].exception_class is RuntimeError
    run(result)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"attempt": 2}
    assert result.attempts == 2
    assert len(result.worker_ids) == 2


def test_a_task_out_of_attempts_is_failed_with_its_error():
    result = tasks.always_fails.enqueue("no luck")

    run(result)

    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class is ValueError
    assert "no luck" in result.errors[0].traceback
    with pytest.raises(ValueError, match="Task failed"):
        _ = result.return_value


def test_a_deferred_task_waits_for_its_time():
    run_after = timezone.now() + timedelta(hours=1)
    result = tasks.add.using(run_after=run_after).enqueue(1, 1)

    run(result)  # a delivery before its time claims nothing

    job = Job.objects.get(pk=result.id)
    assert result.status == TaskResultStatus.READY
    assert job.run_after == run_after


def test_priority_and_queue_name_map_to_the_job():
    result = tasks.add.using(priority=-100, queue_name="default").enqueue(1, 2)

    job = Job.objects.get(pk=result.id)
    assert (job.priority, job.queue) == (-100, "default")
    assert result.task.priority == -100


@pytest.mark.parametrize("options", [{"priority": 101}, {"queue_name": "nowhere"}])
def test_priority_out_of_range_or_unknown_queue_is_refused_by_the_standard(options):
    with pytest.raises(InvalidTaskError):
        tasks.add.using(**options)
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "args",
    [(datetime(2026, 1, 1), 1), (float("nan"), 1), ({1: "one"}, 2), (object(), 1)],
    ids=["datetime", "nan", "int-key", "object"],
)
def test_arguments_that_are_not_json_are_refused_at_enqueue(args):
    with pytest.raises(TypeError, match="Task arguments must be JSON round-trippable"):
        tasks.add.enqueue(*args)
    assert not Job.objects.exists()


def test_a_return_value_that_is_not_json_fails_the_task_without_retry():
    result = tasks.returns_an_object.enqueue()

    run(result)

    assert result.status == TaskResultStatus.FAILED
    assert "return value must be JSON round-trippable" in result.errors[0].traceback
    assert Job.objects.get(pk=result.id).attempts == 1


def test_a_task_with_context_reports_progress_through_the_job_context():
    result = tasks.report.enqueue(["a", "b", "c"])

    run(result)

    job = Job.objects.get(pk=result.id)
    assert result.return_value == {"rows": 3, "result_id": result.id, "status": "RUNNING"}
    assert job.progress["done"] == 3 and job.progress["total"] == 3


def test_a_running_job_is_a_running_result():
    result = tasks.add.enqueue(1, 2)
    services.job_start(job_id=int(result.id), cluster=None, worker="host:1")

    result.refresh()

    assert result.status == TaskResultStatus.RUNNING
    assert result.worker_ids == ["host:1"]
    assert not result.is_finished


def test_a_cancelled_job_is_a_failed_result_that_says_so(staff):
    result = tasks.add.enqueue(1, 2)
    services.job_cancel(job=Job.objects.get(pk=result.id), by=staff)

    result.refresh()

    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class.__name__ == "JobCancelled"
    assert "cancelled" in result.errors[0].traceback


def test_an_expired_job_is_a_failed_result_that_says_so():
    result = tasks.add.enqueue(1, 2)
    Job.objects.filter(pk=result.id).update(status="expired")

    result.refresh()

    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class.__name__ == "JobExpired"
    assert "expired" in result.errors[0].traceback


@pytest.mark.parametrize("result_id", ["999999", "not-a-number", "", "9" * 30])
def test_get_result_of_an_unknown_id_raises_the_standard_error(result_id):
    with pytest.raises(TaskResultDoesNotExist):
        default_task_backend.get_result(result_id)


def test_get_result_of_a_job_that_is_no_task_raises_the_standard_error():
    job = JobFactory(handler="jobs.noop")
    with pytest.raises(TaskResultDoesNotExist):
        task_backends["default"].get_result(str(job.pk))


def test_get_result_through_the_task_reads_the_job():
    result = tasks.add.enqueue(4, 5)
    run(result)

    assert tasks.add.get_result(result.id).return_value == 9


def test_async_enqueue_get_result_and_refresh():
    async def scenario():
        result = await tasks.add.aenqueue(20, 22)
        same = await default_task_backend.aget_result(result.id)
        await result.arefresh()
        return result, same

    result, same = async_to_sync(scenario)()

    assert same.id == result.id and same.status == TaskResultStatus.READY
    assert Job.objects.get(pk=result.id).args == {"args": [20, 22], "kwargs": {}}


def test_an_async_task_runs_in_the_worker():
    result = tasks.double.enqueue(21)

    run(result)

    assert result.return_value == 42


def test_an_enqueue_rolled_back_with_its_transaction_leaves_nothing_to_run():
    with pytest.raises(RuntimeError), transaction.atomic():
        result = tasks.add.enqueue(1, 2)
        raise RuntimeError("the view failed after enqueueing")

    assert not Job.objects.exists()
    with pytest.raises(TaskResultDoesNotExist):
        default_task_backend.get_result(result.id)


def test_an_error_of_a_class_of_its_own_keeps_its_import_path():
    result = tasks.fails_with_its_own_error.enqueue("line one\nline two")

    run(result)

    assert result.errors[0].exception_class is tasks.ReportFailed
    assert result.errors[0].traceback.rstrip().endswith("line two")
