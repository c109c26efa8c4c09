import json

import pytest

from jobs.management import cli
from jobs.models import Job, Queue
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_list_shows_every_queue_with_depth_and_state(command, settings):
    settings.JOBS_QUEUES = ["default", "imports"]
    JobFactory(status=Job.Status.QUEUED)
    JobFactory(status=Job.Status.RUNNING, queue="imports")
    result = command("jobs_queue", "list")
    assert result.code == cli.OK
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["QUEUE", "WEIGHT", "DUE"]
    assert lines[1].split() == ["default", "1", "1", "0", "0", "0", lines[1].split()[6], "running"]
    assert lines[2].split()[:6] == ["imports", "1", "0", "0", "0", "1"]


def test_pause_resume_and_limit_change_the_shared_state(command):
    result = command("jobs_queue", "pause", "default", "--json")
    assert result.code == cli.OK
    [queue] = json.loads(result.out)
    assert (queue["queue"], queue["paused"], queue["paused_by"]) == ("default", True, None)
    assert Queue.objects.get(name="default").is_paused
    assert command("jobs_queue", "resume", "default").out.split()[-1] == "running"
    assert command("jobs_queue", "limit", "default", "3").code == cli.OK
    assert Queue.objects.get(name="default").concurrency_limit == 3
    assert command("jobs_queue", "limit", "default", "none").code == cli.OK
    assert Queue.objects.get(name="default").concurrency_limit is None


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["pause", "nowhere"], cli.INVALID, "Unknown queue 'nowhere'"),
        (["limit", "default", "0"], cli.INVALID, "Must be between 1 and 10000"),
        (["limit", "default", "lots"], cli.USAGE, "invalid limit lots"),
        (["drain"], cli.USAGE, "invalid choice: 'drain'"),
        ([], cli.USAGE, "required"),
    ],
)
def test_bad_input_is_one_line_with_its_exit_code(command, args, code, message):
    result = command("jobs_queue", *args)
    assert result.code == code
    assert message in result.err
    assert not Queue.objects.filter(paused_at__isnull=False).exists()
