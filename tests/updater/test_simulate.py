"""`simulate` at a tiny size against a live server (pytest-django's live_server, in a thread)."""

import json

import pytest
from django.urls import Resolver404, resolve
from rest_framework.authtoken.models import Token

from jobs.management import cli
from jobs.models import Job
from tests.commands.call import run_command
from tests.factories import UserFactory
from updater.loadtest.explain import explain

live = pytest.mark.django_db(transaction=True)  # the server thread must see what the test commits


@pytest.fixture
def token(transactional_db) -> str:
    """A superuser's token: simulate drives jobs.sleep (staff only) and feed imports, unthrottled."""
    return Token.objects.create(user=UserFactory(is_staff=True, is_superuser=True)).key


def summary_row(text: str, label: str) -> list[str]:
    """The cells of one row of the side-by-side summary."""
    for line in text.splitlines():
        if line.startswith(label + "  "):
            return line[len(label):].split()
    raise AssertionError(f"no row {label!r} in:\n{text}")


def simulate(live_server, token, *args):
    return run_command("simulate", "--url", live_server.url, "--token", token, "--clients", "3", "--requests", "6",
                       "--timeout", "30", *args)


@live
def test_jobs_mode_reports_every_request_and_the_jobs_it_queued(live_server, token, tmp_path):
    chart = tmp_path / "load.png"
    result = simulate(live_server, token, "--mode", "jobs", "--drain-timeout", "0", "--chart", str(chart))
    assert result.code == cli.OK, result.err
    assert summary_row(result.out, "requests") == ["6"]
    assert summary_row(result.out, "answered 2xx") == ["6"]
    assert summary_row(result.out, "errors") == ["0"]
    assert summary_row(result.out, "jobs queued/running/done") == ["6/0/0"]  # no worker runs here
    assert "queued: the workers had not finished every job" in result.out
    assert Job.objects.filter(handler="jobs.sleep", status=Job.Status.QUEUED).count() == 6
    assert chart.read_bytes().startswith(b"\x89PNG")


@live
def test_jobs_mode_waits_for_the_workers(live_server, token, in_process_worker):
    result = simulate(live_server, token, "--mode", "jobs", "--sleep", "0", "--no-chart", "--json")
    assert result.code == cli.OK, result.err
    (phase,) = json.loads(result.out)["phases"]
    assert (phase["ok"], phase["errors"], phase["timeouts"]) == (6, 0, 0)
    assert phase["jobs"] == {"waiting": 0, "queued": 0, "reserved": 0, "running": 0, "succeeded": 6, "failed": 0,
                             "cancelled": 0, "expired": 0}
    assert phase["drained"] is True
    assert (phase["unit"], phase["units_done"]) == ("jobs", 6)
    assert phase["units_per_second"] > 0
    assert set(phase["latency_ms"]) == {"p50", "p95", "p99"}
    assert phase["latency_ms"]["p50"] <= phase["latency_ms"]["p95"] <= phase["latency_ms"]["p99"]


@live
def test_feeds_mode_runs_both_phases_side_by_side(live_server, token):
    try:
        resolve("/api/v1/updates/sync/")
    except Resolver404:
        pytest.skip("the feed upload endpoints are not installed yet")
    result = simulate(live_server, token, "--mode", "feeds", "--rows", "5", "--drain-timeout", "0", "--no-chart")
    assert result.code == cli.OK, result.err
    assert summary_row(result.out, "requests") == ["6", "6"]
    assert summary_row(result.out, "answered 2xx") == ["6", "6"]
    assert summary_row(result.out, "rows done")[1] == "30"  # the synchronous phase did its rows in the requests


@live
def test_an_endpoint_the_server_lacks_is_a_one_line_error(live_server, token):
    result = run_at(live_server.url + "/elsewhere", token, "--mode", "jobs")
    assert result.code == cli.UNAVAILABLE
    expected = f"{live_server.url}/elsewhere/api/v1/jobs/ answered 404: this server has no such endpoint"
    assert result.err.strip() == expected
    assert not Job.objects.exists()


@live
def test_a_wrong_token_is_a_one_line_error(live_server, token):
    result = run_at(live_server.url, "not-a-token", "--mode", "jobs")
    assert result.code == cli.UNAVAILABLE
    assert "refused the credentials (HTTP 401)" in result.err


@live
def test_login_with_a_wrong_password_is_a_one_line_error(live_server):
    UserFactory(username="loader")
    result = run_command("simulate", "--url", live_server.url, "--username", "loader", "--password", "wrong",
                         "--mode", "jobs", "--no-chart")
    assert result.code == cli.UNAVAILABLE
    assert result.err.strip() == f"{live_server.url} refused the username and password"


@live
def test_login_with_username_and_password(live_server):
    UserFactory(username="loader", is_staff=True, is_superuser=True)  # the factory's password
    result = run_command("simulate", "--url", live_server.url, "--username", "loader", "--password", "pass-word-123",
                         "--mode", "jobs", "--requests", "2", "--drain-timeout", "0", "--no-chart", "--json")
    assert result.code == cli.OK, result.err
    assert json.loads(result.out)["phases"][0]["ok"] == 2


@live
def test_a_server_that_is_not_there_is_a_one_line_error(token):
    result = run_at("http://127.0.0.1:9", token, "--mode", "jobs")
    assert result.code == cli.UNAVAILABLE
    assert result.err.startswith("cannot reach http://127.0.0.1:9 (")


@live
def test_without_credentials_it_uses_the_local_superusers_token(live_server, transactional_db):
    UserFactory(is_superuser=True, is_staff=True)
    result = run_command("simulate", "--url", live_server.url, "--mode", "jobs", "--requests", "1",
                         "--drain-timeout", "0", "--no-chart", "--json")
    assert result.code == cli.OK, result.err
    assert Token.objects.count() == 1


@live
def test_without_credentials_or_superuser_it_says_what_to_pass(transactional_db):
    result = run_command("simulate", "--mode", "jobs", "--no-chart")
    assert result.code == cli.UNAVAILABLE
    assert "no active superuser in the local database; pass --token" in result.err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--clients", "0"], "argument --clients: must be 1 or more"),
        (["--requests", "lots"], "argument --requests: 'lots' is not a whole number"),
        (["--timeout", "0"], "argument --timeout: must be more than 0"),
        (["--mode", "both"], "argument --mode: invalid choice: 'both'"),
        (["--url", "localhost:8000"], "argument --url: 'localhost:8000' is not an http(s) URL"),
        (["--chart", "out.svg"], "argument --chart: 'out.svg' must end in .png"),
        (["--chart", "/no/such/folder/out.png"], "the folder of '/no/such/folder/out.png' does not exist"),
        (["--mode", "jobs", "--sync"], "--sync goes with --mode feeds"),
        (["--password", "x"], "--password needs --username"),
        (["--token", "t", "--username", "u"], "give --token or --username, not both"),
        (["--drain-timeout", "-1"], "argument --drain-timeout: must be 0 or more"),
    ],
)
def test_simulate_refuses_bad_input_in_one_line(args, message):
    result = run_command("simulate", *args)
    assert result.code == cli.USAGE
    assert message in result.err
    assert "\n" not in result.err.strip()


def run_at(url, token, *args):
    return run_command("simulate", "--url", url, "--token", token, "--requests", "2", "--no-chart", *args)


def test_the_paragraph_names_the_break_even_point_and_why():
    queued = {"name": "queued", "units_done": 10_000, "finished_seconds": 12.0, "latency_ms": {"p50": 40.0}}
    sync = {"name": "sync", "units_done": 10_000, "units_per_second": 20_000.0, "finished_seconds": 0.5,
            "latency_ms": {"p50": 500.0}}  # fmt: skip
    text = explain([queued, sync], rows=500, timeout=5)
    # 20 feeds in 12 s: 0.6 s each, of which the import is 25 ms; 0.575 s x 20,000 rows/s = 11,500 rows
    assert "fixed cost of about 0.57 s" in text
    assert "the fixed cost dominates, so the queued work finished later" in text
    assert "about 11,500 rows per feed" in text
    assert "passes the client's 5 s time-out at about 5,000 rows" in text
    assert explain([queued], rows=500, timeout=5) == ""  # no synchronous phase: nothing to compare
