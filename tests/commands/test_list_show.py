import json
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.management import cli
from jobs.models import Job, JobEvent
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def ids_in_table(text: str) -> list[int]:
    return [int(line.split()[0]) for line in text.splitlines()[1:] if line.split() and line.split()[0].isdigit()]


def test_list_is_a_table_newest_first(command):
    old = JobFactory(created_at=timezone.now() - timedelta(hours=1))
    new = JobFactory(handler="jobs.sleep", status=Job.Status.RUNNING, progress={"done": 3, "total": 4})
    result = command("jobs_list")
    assert result.code == cli.OK
    assert result.out.splitlines()[0].split()[:4] == ["ID", "STATUS", "HANDLER", "QUEUE"]
    assert ids_in_table(result.out) == [new.pk, old.pk]
    assert "3/4 (75%)" in result.out


def test_list_filters_by_status_handler_queue_and_age(command):
    failed = JobFactory(status=Job.Status.FAILED, handler="jobs.fail")
    cancelled = JobFactory(status=Job.Status.CANCELLED, handler="jobs.fail")
    JobFactory(status=Job.Status.SUCCEEDED, handler="jobs.fail")
    JobFactory(status=Job.Status.FAILED, handler="jobs.noop")
    JobFactory(status=Job.Status.FAILED, handler="jobs.fail", created_at=timezone.now() - timedelta(days=2))
    result = command("jobs_list", "--status", "failed", "--status", "cancelled,failed", "--handler", "jobs.fail",
                     "--queue", "default", "--since", "1d")
    assert sorted(ids_in_table(result.out)) == [failed.pk, cancelled.pk]


def test_list_since_takes_an_iso_date_time(command):
    JobFactory(created_at=timezone.now() - timedelta(days=3))
    recent = JobFactory()
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids_in_table(command("jobs_list", "--since", since).out) == [recent.pk]


def test_list_says_when_the_limit_cut_it(command):
    jobs = JobFactory.create_batch(3)
    result = command("jobs_list", "--limit", "2")
    assert ids_in_table(result.out) == [jobs[2].pk, jobs[1].pk]
    assert "(the newest 2;" in result.out


def test_list_of_nothing_says_so(command):
    assert command("jobs_list").out.strip() == "No jobs."


def test_list_json_is_a_list_of_jobs(command, django_assert_max_num_queries):
    JobFactory.create_batch(3)
    with django_assert_max_num_queries(2):
        result = command("jobs_list", "--json", "--limit", "2")
    data = json.loads(result.out)
    assert [job["id"] for job in data] == list(Job.objects.values_list("id", flat=True)[:2])
    assert {"id", "status", "handler", "progress", "error", "requested_by", "status_url"} <= data[0].keys()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--status", "done"], "argument --status: unknown status done; choose from waiting, queued, reserved, running"),
        (["--status", ","], "argument --status: unknown status"),
        (["--since", "yesterday"], "argument --since: 'yesterday' is neither a duration"),
        (["--since", "10y"], "argument --since: '10y' is neither a duration"),
        (["--limit", "0"], "argument --limit: must be 1 or more, not 0"),
        (["--limit", "many"], "argument --limit: 'many' is not a whole number"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_list_refuses_bad_input_in_one_line(command, args, message):
    result = command("jobs_list", *args)
    assert result.code == cli.USAGE
    assert message in result.err
    assert "\n" not in result.err.strip()


def test_show_prints_every_field_events_and_traceback(command):
    job = JobFactory(
        handler="jobs.fail", status=Job.Status.FAILED, attempts=2, max_attempts=2, args={"message": "boom"},
        error={"type": "RuntimeError", "message": "boom",
               "traceback": "Traceback (most recent call last):\nRuntimeError: boom"},
        worker="host:42", started_at=timezone.now(), finished_at=timezone.now(),
    )
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.FAILED, attempt=2, message="boom at last")
    result = command("jobs_show", str(job.pk))
    assert result.code == cli.OK
    assert result.out.startswith(f"Job #{job.pk}  jobs.fail  failed")
    for text in ("attempts          2 of 2", "trace id", job.trace_id, "host:42", '"message": "boom"',
                 "Error: RuntimeError: boom", "Traceback (most recent call last):", "failed  2", "boom at last"):
        assert text in result.out


def test_show_accepts_a_hash_before_the_id(command):
    job = JobFactory()
    assert command("jobs_show", f"#{job.pk}").code == cli.OK


def test_show_json_is_the_job_with_its_events(command):
    job = JobFactory(status=Job.Status.SUCCEEDED, result={"rows": 3})
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.SUCCEEDED, attempt=1)
    data = json.loads(command("jobs_show", str(job.pk), "--json").out)
    assert (data["id"], data["result"]) == (job.pk, {"rows": 3})
    assert [event["kind"] for event in data["events"]] == ["succeeded"]


def test_show_of_an_unknown_id_exits_3(command):
    result = command("jobs_show", "999999")
    assert result.code == cli.NOT_FOUND
    assert result.err.strip() == "Job 999999 not found."


@pytest.mark.parametrize("args", [["abc"], ["0"], ["-3"], []])
def test_show_refuses_a_malformed_id(command, args):
    result = command("jobs_show", *args)
    assert result.code == cli.USAGE
    assert "\n" not in result.err.strip()
