import json

import pytest

from jobs.management import cli
from jobs.models import Job, JobEvent
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def status_of(job: Job) -> str:
    return Job.objects.values_list("status", flat=True).get(pk=job.pk)


def test_retry_by_id_queues_failed_and_cancelled_jobs(command):
    failed = JobFactory(status=Job.Status.FAILED)
    cancelled = JobFactory(status=Job.Status.CANCELLED)
    result = command("jobs_retry", str(failed.pk), str(cancelled.pk))
    assert result.code == cli.OK
    assert result.out.splitlines() == [f"#{failed.pk} retried (now queued)", f"#{cancelled.pk} retried (now queued)"]
    assert status_of(failed) == status_of(cancelled) == Job.Status.QUEUED
    assert JobEvent.objects.filter(kind=JobEvent.Kind.RETRIED).count() == 2


def test_retry_of_a_running_job_exits_4_and_still_does_the_others(command):
    running = JobFactory(status=Job.Status.RUNNING)
    failed = JobFactory(status=Job.Status.FAILED)
    result = command("jobs_retry", str(running.pk), str(failed.pk))
    assert result.code == cli.CONFLICT
    assert f"#{running.pk} skipped: Job #{running.pk} is running" in result.out
    assert status_of(failed) == Job.Status.QUEUED
    assert status_of(running) == Job.Status.RUNNING
    assert result.out.splitlines()[-1] == "Retried 1 of 2: 0 not found, 1 refused by their state."
    assert result.err == ""  # a partial success is no error


def test_an_unknown_id_exits_3_even_beside_a_conflict(command):
    running = JobFactory(status=Job.Status.RUNNING)
    result = command("jobs_retry", str(running.pk), "999999")
    assert result.code == cli.NOT_FOUND
    assert "#999999 not found" in result.out


def test_retry_of_a_job_whose_unique_key_is_taken_is_a_conflict(command):
    JobFactory(status=Job.Status.QUEUED, unique_key="nightly")
    failed = JobFactory(status=Job.Status.FAILED, unique_key="nightly")
    result = command("jobs_retry", str(failed.pk))
    assert result.code == cli.CONFLICT
    assert "unique key 'nightly'" in result.out
    assert status_of(failed) == Job.Status.FAILED


def test_retry_json_reports_each_job(command):
    failed = JobFactory(status=Job.Status.FAILED)
    succeeded = JobFactory(status=Job.Status.SUCCEEDED)
    result = command("jobs_retry", str(failed.pk), str(succeeded.pk), "999999", "--json")
    assert result.code == cli.NOT_FOUND
    data = json.loads(result.out)
    assert (data["done"], data["skipped"], data["not_found"]) == (1, 1, 1)
    assert [(j["id"], j["outcome"], j["status"]) for j in data["jobs"]] == [
        (failed.pk, "done", "queued"), (succeeded.pk, "skipped", None), (999999, "not_found", None)
    ]


def test_retry_by_selection_takes_failed_jobs_of_a_handler(command):
    target = JobFactory(status=Job.Status.FAILED, handler="jobs.fail")
    other_handler = JobFactory(status=Job.Status.FAILED, handler="jobs.noop")
    succeeded = JobFactory(status=Job.Status.SUCCEEDED, handler="jobs.fail")
    result = command("jobs_retry", "--status", "failed", "--handler", "jobs.fail")
    assert result.code == cli.OK
    assert result.out.strip() == "Retried 1 job."
    assert status_of(target) == Job.Status.QUEUED
    assert status_of(other_handler) == Job.Status.FAILED
    assert status_of(succeeded) == Job.Status.SUCCEEDED


def test_selection_reports_what_it_skipped(command):
    JobFactory(status=Job.Status.FAILED, handler="jobs.fail")
    JobFactory(status=Job.Status.RUNNING, handler="jobs.fail")
    result = command("jobs_retry", "--status", "failed,running", "--handler", "jobs.fail", "--json")
    assert result.code == cli.OK
    assert json.loads(result.out) == {"selected": 2, "done": 1, "skipped": 1, "reasons": {"already running": 1}}


def test_selection_without_status_takes_the_retryable_ones(command):
    failed = JobFactory(status=Job.Status.FAILED, handler="jobs.fail")
    JobFactory(status=Job.Status.SUCCEEDED, handler="jobs.fail")
    assert command("jobs_retry", "--handler", "jobs.fail").out.strip() == "Retried 1 job."
    assert status_of(failed) == Job.Status.QUEUED


def test_dry_run_changes_nothing(command):
    failed = JobFactory(status=Job.Status.FAILED)
    result = command("jobs_retry", "--status", "failed", "--dry-run")
    assert result.out.strip() == "1 job selected; nothing changed (--dry-run)."
    assert status_of(failed) == Job.Status.FAILED


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give job ids to retry, or select jobs with"),
        (["1", "--status", "failed"], "give job ids or a selection"),
        (["1", "--dry-run"], "--dry-run goes with a selection"),
        (["x"], "argument ID: 'x' is not a job id"),
        (["--status", "broken"], "argument --status: unknown status broken"),
        (["--since", "soon"], "argument --since: 'soon' is neither"),
    ],
)
def test_retry_refuses_bad_input_in_one_line(command, args, message):
    result = command("jobs_retry", *args)
    assert result.code == cli.USAGE
    assert message in result.err
    assert "\n" not in result.err.strip()


def test_cancel_by_id_cancels_queued_and_asks_running_to_stop(command):
    queued = JobFactory(status=Job.Status.QUEUED)
    running = JobFactory(status=Job.Status.RUNNING)
    result = command("jobs_cancel", str(queued.pk), str(running.pk))
    assert result.code == cli.OK
    assert result.out.splitlines() == [
        f"#{queued.pk} cancelled",
        f"#{running.pk} cancel requested (running; it stops at its next cancellation check)",
    ]
    assert status_of(queued) == Job.Status.CANCELLED
    assert Job.objects.get(pk=running.pk).cancel_requested_at is not None


def test_cancel_of_a_finished_job_exits_4(command):
    done = JobFactory(status=Job.Status.SUCCEEDED)
    result = command("jobs_cancel", str(done.pk))
    assert result.code == cli.CONFLICT
    assert f"#{done.pk} skipped: Job #{done.pk} is succeeded and cannot be cancelled." in result.out


def test_cancel_of_an_unknown_id_exits_3(command):
    result = command("jobs_cancel", "424242", "--json")
    assert result.code == cli.NOT_FOUND
    assert json.loads(result.out)["jobs"] == [{"id": 424242, "outcome": "not_found", "status": None,
                                               "detail": "not found"}]


def test_cancel_by_selection_defaults_to_active_jobs(command):
    queued = JobFactory(status=Job.Status.QUEUED, queue="default")
    failed = JobFactory(status=Job.Status.FAILED, queue="default")
    result = command("jobs_cancel", "--queue", "default")
    assert result.out.strip() == "Cancelled 1 job."
    assert status_of(queued) == Job.Status.CANCELLED
    assert status_of(failed) == Job.Status.FAILED


def test_cancel_refuses_a_bad_id(command):
    result = command("jobs_cancel", "12x")
    assert result.code == cli.USAGE
    assert "'12x' is not a job id" in result.err
