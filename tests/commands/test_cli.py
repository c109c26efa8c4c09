"""The shared command-line pieces: argument types, tables, the progress bar, and the one-line
error convention when a command runs from a real command line."""

import argparse
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
from jobs.models import Job
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


@pytest.mark.django_db
def test_progress_bar_in_a_log_writes_a_line_only_when_something_changed():
    out = StringIO()
    bar = cli.ProgressBar(OutputWrapper(out))
    job = JobFactory(handler="jobs.sleep", status=Job.Status.RUNNING, progress={"done": 1, "total": 4, "rate": 2.0})
    bar.update(job)
    job.progress = {"done": 1, "total": 4, "rate": 1.9}  # only the rate moved
    bar.update(job)
    job.status, job.progress = Job.Status.SUCCEEDED, {"done": 4, "total": 4}
    bar.update(job)
    bar.close()
    assert out.getvalue().splitlines() == [
        f"#{job.pk} jobs.sleep running [######------------------] 1/4 (25%) 2.0/s",
        f"#{job.pk} jobs.sleep succeeded [########################] 4/4 (100%)",
    ]


@pytest.mark.django_db
def test_progress_bar_says_when_a_queued_job_is_due():
    job = JobFactory(run_after=timezone.now() + timedelta(minutes=10))
    assert "(attempt 1/3 due in 9m5" in cli.ProgressBar(OutputWrapper(StringIO())).render(job)


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
