import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jobs import services
from jobs.management import cli
from jobs.management.progress import ProgressBar
from jobs.models import Job
from tests.factories import JobFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


def test_enqueue_prints_the_id_of_a_queued_job(command):
    result = command("jobs_enqueue", "jobs.sleep", "--args", '{"seconds": 0.1, "steps": 2}')
    assert result.code == cli.OK
    job = Job.objects.get()
    assert result.out.strip() == str(job.pk)
    assert (job.handler, job.args, job.status) == ("jobs.sleep", {"seconds": 0.1, "steps": 2}, Job.Status.QUEUED)


def test_enqueue_passes_every_run_option(command):
    when = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    run_after = when.isoformat().replace("+00:00", "Z")
    result = command(
        "jobs_enqueue", "jobs.noop", "--queue", "default", "--priority", "7", "--run-after", run_after,
        "--max-attempts", "4", "--timeout", "9", "--unique-key", "nightly",
        "--deadline", (when + timedelta(hours=1)).isoformat(),
    )
    assert result.code == cli.OK
    job = Job.objects.get()
    assert (job.priority, job.max_attempts, job.timeout, job.unique_key) == (7, 4, 9, "nightly")
    assert job.run_after == when
    assert job.deadline == when + timedelta(hours=1)


def test_a_deadline_before_the_job_is_due_is_refused(command):
    result = command("jobs_enqueue", "jobs.noop", "--delay", "60", "--deadline", "2020-01-01T00:00:00Z")
    assert result.code == cli.INVALID
    assert "deadline" in result.err
    assert not Job.objects.exists()


def test_enqueue_with_delay_runs_later(command):
    before = timezone.now()
    assert command("jobs_enqueue", "jobs.noop", "--delay", "120").code == cli.OK
    assert Job.objects.get().run_after >= before + timedelta(seconds=120)


def test_enqueue_json_is_the_job(command):
    result = command("jobs_enqueue", "jobs.noop", "--json")
    data = json.loads(result.out)
    assert data["id"] == Job.objects.get().pk
    assert data["status"] == "queued"
    assert data["status_url"] == f"/api/v1/jobs/{data['id']}/"
    assert {"trace_id", "queue", "args", "max_attempts", "timeout"} <= data.keys()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["no.such.handler"], cli.INVALID, "Unknown handler 'no.such.handler'"),
        (["jobs.sleep", "--args", '{"nope": 1}'], cli.INVALID, "Invalid job: args: "),
        (["jobs.sleep", "--queue", "nope"], cli.INVALID, "queue: Unknown queue 'nope'"),
        (["jobs.sleep", "--timeout", "999999"], cli.INVALID, "timeout: Must be between 1 and"),
        (["jobs.sleep", "--priority", "101"], cli.INVALID, "priority: Must be between -100 and 100."),
        (["jobs.sleep", "--args", "{not json"], cli.USAGE, "argument --args: not valid JSON"),
        (["jobs.sleep", "--args", "[1, 2]"], cli.USAGE, "argument --args: must be a JSON object"),
        (["jobs.sleep", "--priority", "high"], cli.USAGE, "argument --priority: 'high' is not a whole number"),
        (["jobs.sleep", "--delay", "-1"], cli.USAGE, "argument --delay: must be 0 or more"),
        (["jobs.sleep", "--delay", "nan"], cli.USAGE, "argument --delay: 'nan' is not a finite number"),
        (["jobs.sleep", "--run-after", "tomorrow"], cli.USAGE, "argument --run-after: 'tomorrow' is not an ISO"),
        (["jobs.sleep", "--delay", "1", "--run-after", "2030-01-01"], cli.USAGE, "not allowed with argument"),
        (["jobs.sleep", "--max-attempts", "0"], cli.USAGE, "argument --max-attempts: must be 1 or more"),
        (["jobs.sleep", "--timeout", "x"], cli.USAGE, "argument --timeout: 'x' is not a whole number"),
        (["jobs.sleep", "--poll", "1"], cli.USAGE, "--poll needs --wait"),
        (["jobs.sleep", "--wait", "--poll", "0"], cli.USAGE, "argument --poll: must be more than 0"),
        ([], cli.USAGE, "the following arguments are required: handler"),
    ],
)
def test_enqueue_refuses_bad_input_in_one_line(command, args, code, message):
    result = command("jobs_enqueue", *args)
    assert result.code == code
    assert message in result.err
    assert "\n" not in result.err.strip()
    assert not Job.objects.exists()


def test_enqueue_with_a_unique_key_held_by_an_active_job_is_a_conflict(command):
    held = JobFactory(unique_key="nightly", status=Job.Status.RUNNING)
    result = command("jobs_enqueue", "jobs.noop", "--unique-key", "nightly")
    assert result.code == cli.CONFLICT
    assert f"(existing job #{held.pk})" in result.err
    assert Job.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_wait_exits_0_when_the_job_succeeds(command, in_process_worker):
    result = command("jobs_enqueue", "jobs.sleep", "--args", '{"seconds": 0.2, "steps": 2}', "--wait", "--poll", "0.05")
    assert result.code == cli.OK
    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED
    assert result.out.strip() == str(job.pk)
    assert f"#{job.pk} jobs.sleep succeeded [{'#' * ProgressBar.WIDTH}] 2/2 (100%)" in result.err
    assert f"Job #{job.pk} succeeded in" in result.err


@pytest.mark.django_db(transaction=True)
def test_wait_exits_1_when_the_job_fails(command, in_process_worker):
    args = '{"message": "no such file", "permanent": true}'
    result = command("jobs_enqueue", "jobs.fail", "--args", args, "--wait", "--poll", "0.05")
    assert result.code == cli.FAILED
    assert "failed after 1 attempt(s): PermanentJobError: no such file" in result.err
    assert Job.objects.get().status == Job.Status.FAILED


@pytest.mark.django_db(transaction=True)
def test_wait_exits_2_when_the_job_is_cancelled(command):
    def cancel_when_enqueued() -> None:
        try:
            services.job_cancel(job=wait_for(Job.objects.first, message="the job"))
        finally:
            connection.close()

    canceller = threading.Thread(target=cancel_when_enqueued)
    canceller.start()
    result = command("jobs_enqueue", "jobs.noop", "--delay", "3600", "--wait", "--poll", "0.05", "--json")
    canceller.join()
    assert result.code == cli.CANCELLED
    assert json.loads(result.out)["status"] == "cancelled"
    assert "was cancelled" in result.err


@pytest.mark.django_db(transaction=True)
def test_wait_with_json_prints_only_the_finished_job(command, in_process_worker):
    result = command("jobs_enqueue", "jobs.noop", "--wait", "--poll", "0.05", "--json")
    assert result.code == cli.OK
    assert json.loads(result.out)["status"] == "succeeded"
    assert result.err == ""
