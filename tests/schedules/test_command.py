"""manage.py jobs_schedule: each verb, its --json, and bad input as one line with its exit code."""

import json

import pytest

from jobs import services
from jobs.management import cli
from jobs.models import Job, Schedule
from tests.commands.call import run_command

pytestmark = pytest.mark.django_db


def command(*args: str):
    return run_command("jobs_schedule", *args)


def test_add_creates_and_plants():
    result = command("add", "nightly", "jobs.noop", "--cron", "0 3 * * *", "--tz", "Europe/Paris")
    assert result.code == cli.OK, result.err
    assert result.out.startswith("Created schedule nightly: cron 0 3 * * * (Europe/Paris)")
    assert Job.objects.get().schedule.name == "nightly"


def test_add_json_shows_the_schedule():
    result = command("add", "tick", "jobs.sleep", "--every", "60", "--args", '{"seconds": 0.1}', "--json")
    body = json.loads(result.out)
    assert (body["name"], body["kind"], body["interval_seconds"], body["args"]) == ("tick", "interval", 60,
                                                                                     {"seconds": 0.1})  # fmt: skip
    assert body["next_run_at"] and len(body["next_runs"]) == 5


def test_list_shows_rule_state_and_next_run():
    services.schedule_create(name="nightly", handler="jobs.noop", cron="0 3 * * *")
    result = command("list")
    header, row = result.out.splitlines()
    assert header.split()[:4] == ["NAME", "HANDLER", "RULE", "STATE"]
    assert row.split()[:2] == ["nightly", "jobs.noop"] and "enabled" in row
    assert [s["name"] for s in json.loads(command("list", "--json").out)] == ["nightly"]


def test_pause_resume_run_now_and_remove():
    services.schedule_create(name="nightly", handler="jobs.noop", cron="0 3 * * *")
    assert "paused" in command("pause", "nightly").out
    assert Schedule.objects.get().is_paused
    assert json.loads(command("resume", "nightly", "--json").out)["paused"] is False
    ran = json.loads(command("run-now", "nightly", "--json").out)
    assert Job.objects.get(pk=ran["id"]).schedule.name == "nightly"
    assert command("remove", "nightly").out == "Removed schedule nightly.\n"
    assert not Schedule.objects.exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["pause", "nope"], cli.NOT_FOUND, "Schedule 'nope' not found"),
        (["add", "x", "jobs.noop", "--cron", "99 * * * *"], cli.INVALID, "cron:"),
        (["add", "x", "no.such", "--every", "5"], cli.INVALID, "Invalid schedule: handler: Unknown handler"),
        (["add", "x", "jobs.noop", "--cron", "* * * * *", "--tz", "Mars/Base"], cli.INVALID, "timezone:"),
        (["add", "x", "jobs.noop"], cli.USAGE, "one of the arguments"),
        (["add", "x", "jobs.noop", "--every", "soon"], cli.USAGE, "not a whole number"),
        (["add", "x", "jobs.noop", "--every", "5", "--args", "[1]"], cli.USAGE, "JSON object"),
        (["explode"], cli.USAGE, "invalid choice"),
    ],
)
def test_bad_input_is_one_line_with_its_exit_code(args, code, message):
    result = command(*args)
    assert result.code == code
    assert message in result.err


def test_removing_a_builtin_is_a_conflict():
    services.schedule_create(name="kept", handler="jobs.noop", cron="0 * * * *", builtin=True)
    result = command("remove", "kept", "--json")
    assert result.code == cli.CONFLICT
    assert json.loads(result.out)["error"]["code"] == "conflict"


def test_show_prints_the_schedule_and_its_last_runs():
    services.schedule_create(name="nightly", handler="jobs.noop", cron="0 3 * * *")
    lines = command("show", "nightly").out.splitlines()
    assert lines[0].startswith("nightly: cron 0 3 * * * (UTC), enabled, next run ")
    assert lines[1].split()[1] == "queued"
    body = json.loads(command("show", "nightly", "--json").out)
    assert body["name"] == "nightly" and body["last_runs"][0]["status"] == "queued"
