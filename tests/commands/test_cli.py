"""The shared command-line pieces: argument types, tables, the progress bar, and the one-line
error convention when a command runs from a real command line."""

import argparse
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.base import OutputWrapper
from django.utils import timezone

from jobs.management import cli
from jobs.models import Job, Schedule
from tests.factories import JobFactory


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1.5h", 5400),
                                           ("1w", 604800), (" 5M ", 300)])
def test_since_reads_a_relative_duration(text, seconds):
    expected = timezone.now() - timedelta(seconds=seconds)
    assert abs((cli.since(text) - expected).total_seconds()) < 5


@pytest.mark.parametrize("text, iso", [
    ("2026-01-31T14:00:00Z", "2026-01-31T14:00:00+00:00"),
    ("2026-01-31T14:00:00+02:00", "2026-01-31T14:00:00+02:00"),
    ("2026-01-31 14:00", "2026-01-31T14:00:00+00:00"),  # no offset: TIME_ZONE (UTC)
    ("2026-01-31", "2026-01-31T00:00:00+00:00"),
])
def test_dates_read_iso_8601(text, iso):
    assert cli.since(text).isoformat() == iso
    assert cli.aware_datetime(text).isoformat() == iso


@pytest.mark.parametrize("function, text", [
    (cli.since, "10x"), (cli.since, "-5m"), (cli.aware_datetime, "2026-02-31"), (cli.aware_datetime, "now"),
    (cli.json_object, "1"), (cli.json_object, "{'a': 1}"), (cli.positive_int, "1.5"), (cli.job_id, "#"),
    (cli.positive_float, "inf"), (cli.non_negative_float, "-0.1"), (cli.statuses, "queued,lost"),
    (cli.http_url, "http://"), (cli.http_url, "127.0.0.1:8000"),
])
def test_types_refuse_with_an_argparse_message(function, text):
    with pytest.raises(argparse.ArgumentTypeError):
        function(text)


def test_statuses_split_commas():
    assert cli.statuses("failed, cancelled") == ["failed", "cancelled"]
    assert cli.flatten([["failed"], ["cancelled", "failed"]]) == ["failed", "cancelled"]


def test_table_aligns_columns_and_cuts_long_cells():
    text = cli.table(["ID", "NAME"], [[1, "short"], [22, "x" * 60]], max_width=10)
    assert text.splitlines() == ["ID  NAME", "1   short", "22  xxxxxxxxx…"]


@pytest.mark.parametrize("value, text", [(None, ""), (0.25, "250ms"), (4.25, "4.2s"), (185, "3m05s"),
                                         (7800, "2h10m"), (timedelta(days=3, hours=4), "3d4h")])
def test_seconds_are_short_and_human(value, text):
    assert cli.seconds(value) == text


def manage(*args: str) -> subprocess.CompletedProcess:
    # A database no one else uses: these commands stop before touching it, but a stray write must not land.
    env = {**os.environ, "DATABASE_URL": "sqlite:////tmp/never-used-by-cli-tests.sqlite3", "LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=Path(settings.BASE_DIR), env=env,
                          capture_output=True, text=True, timeout=120)


def test_from_a_shell_a_malformed_argument_is_one_line_and_exit_64():
    process = manage("jobs_list", "--since", "yesterday")
    assert process.returncode == cli.USAGE
    assert process.stderr.splitlines() == [
        "manage.py jobs_list: error: argument --since: 'yesterday' is neither a duration like 10m, 2h, 1d nor an "
        "ISO 8601 date-time (see --help)"
    ]
    assert process.stdout == ""


def test_from_a_shell_a_refused_job_is_one_line_and_exit_5():
    process = manage("jobs_enqueue", "no.such.handler")
    assert process.returncode == cli.INVALID
    assert process.stderr.splitlines() == [
        "CommandError: Unknown handler 'no.such.handler'. See `manage.py jobs_handlers`."
    ]


def test_from_a_shell_with_json_a_refused_job_is_a_json_error():
    process = manage("jobs_enqueue", "no.such.handler", "--json")
    assert process.returncode == cli.INVALID
    assert json.loads(process.stdout) == {"error": {
        "code": "invalid", "message": "Unknown handler 'no.such.handler'. See `manage.py jobs_handlers`.", "fields": {},
    }}
    assert process.stderr == ""


def test_from_a_shell_with_json_a_malformed_argument_is_a_json_error():
    process = manage("jobs_list", "--since", "yesterday", "--json")
    assert process.returncode == cli.USAGE
    assert json.loads(process.stdout)["error"]["code"] == "usage"


@pytest.mark.django_db
def test_with_json_field_errors_are_listed_by_field(command):
    result = command("jobs_enqueue", "jobs.sleep", "--args", '{"seconds": 1}', "--queue", "nowhere", "--json")
    assert result.code == cli.INVALID
    error = json.loads(result.out)["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) >= {"queue"}
    assert all(isinstance(message, str) for messages in error["fields"].values() for message in messages)


@pytest.mark.django_db
def test_info_logs_reach_stderr_only_from_verbosity_2(command, caplog):
    caplog.set_level(logging.INFO)
    assert command("jobs_enqueue", "jobs.noop").code == cli.OK
    assert [record for record in caplog.records if record.levelno < logging.WARNING] == []
    assert command("jobs_enqueue", "jobs.noop", "-v", "2").code == cli.OK
    assert any(record.levelno == logging.INFO for record in caplog.records)
    assert logging.getLogger().level == logging.INFO  # restored after the command


@pytest.mark.django_db
def test_demo_data_logs_no_info_lines(command, caplog, settings):
    settings.DEBUG = True  # the demo password may then default
    caplog.set_level(logging.INFO)
    assert command("demo_data").code == cli.OK
    assert [record for record in caplog.records if record.levelno < logging.WARNING] == []


@pytest.mark.django_db
def test_demo_data_holds_a_waiting_job_and_a_schedule_and_runs_twice(command, settings):
    settings.DEBUG = True
    assert command("demo_data").code == cli.OK
    assert command("demo_data").code == cli.OK  # idempotent
    assert Job.objects.filter(status=Job.Status.WAITING).count() == 1
    assert Schedule.objects.get().name == "demo-every-minute"
    assert Job.objects.filter(schedule__isnull=False, status=Job.Status.QUEUED).count() == 1  # its next firing
