import json
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.management import cli
from jobs.models import Job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_handlers_lists_each_with_its_options(command, settings):
    settings.JOBS_DEFAULT_MAX_ATTEMPTS = 3
    result = command("jobs_handlers")
    assert result.code == cli.OK
    table = result.out.split("\n\n")[0]
    rows = {line.split()[0]: line.split() for line in table.splitlines()[1:]}
    assert {"jobs.noop", "jobs.sleep", "jobs.fail"} <= rows.keys()
    assert rows["jobs.noop"][1:4] == ["default*", "1", "30"]  # * : from the settings
    assert rows["jobs.sleep"][2:4] == ["3*", "3600"]
    assert rows["updater.import_feed"][2:4] == ["3", "3600"]  # the import's own timeout, not the global 600
    assert "  jobs.sleep(seconds: float = 1.0, steps: int = 10)" in result.out.splitlines()


def test_handlers_timeout_is_the_one_an_import_job_gets(command, tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("sku\nA\n")
    assert command("updater_import", str(path)).code == cli.OK
    shown = {h["name"]: h for h in json.loads(command("jobs_handlers", "--json").out)}
    assert Job.objects.get().timeout == shown["updater.import_feed"]["timeout"] == 3600


def test_handlers_json(command):
    data = {h["name"]: h for h in json.loads(command("jobs_handlers", "--json").out)}
    assert data["jobs.noop"] == {
        "name": "jobs.noop", "queue": "default", "max_attempts": 1, "timeout": 30, "priority": 0,
        "concurrency_limit": None, "rate_limit": None, "deadline_seconds": None, "validates": False,
        "unique_by_args": False, "from_settings": ["queue"], "arguments": [],
        "description": "Does nothing: measures the job system's own cost.",
    }


def test_handlers_json_lists_arguments_with_their_defaults(command):
    data = {h["name"]: h for h in json.loads(command("jobs_handlers", "--json").out)}
    assert data["updater.import_feed"]["arguments"][:2] == [
        {"name": "feed_id", "type": "int", "required": True, "default": None},
        {"name": "chunk_size", "type": "int | None", "required": False, "default": None},
    ]


def test_handlers_refuses_arguments(command):
    result = command("jobs_handlers", "jobs.noop")
    assert result.code == cli.USAGE
    assert "unrecognized arguments: jobs.noop" in result.err


def test_recover_requeues_stale_jobs_releases_orphans_and_expires_overdue(command, settings):
    settings.JOBS_STALE_SECONDS = 15
    long_ago = timezone.now() - timedelta(minutes=5)
    stale = JobFactory(status=Job.Status.RUNNING, attempts=1, max_attempts=3, heartbeat_at=long_ago,
                       started_at=long_ago, worker="gone:1")
    orphan = JobFactory(status=Job.Status.RESERVED, reserved_by="gone:2", reserved_at=long_ago)
    overdue = JobFactory(status=Job.Status.QUEUED, run_after=long_ago, deadline=long_ago + timedelta(seconds=1))
    result = command("jobs_recover")
    assert result.code == cli.OK
    assert result.out.strip() == (
        "Recovered 1 stale running, released 1 reserved, expired 1 overdue, settled 0 waiting, "
        "planted 0 schedule firings."
    )
    assert Job.objects.get(pk=stale.pk).status == Job.Status.QUEUED
    assert Job.objects.get(pk=orphan.pk).status == Job.Status.QUEUED
    assert Job.objects.get(pk=overdue.pk).status == Job.Status.EXPIRED


def test_recover_json_when_there_is_nothing_to_do(command):
    assert json.loads(command("jobs_recover", "--json").out) == {
        "recovered_stale": 0, "released_reserved": 0, "expired": 0, "settled_waiting": 0, "schedules_planted": 0,
    }  # fmt: skip


def test_recover_refuses_arguments(command):
    assert command("jobs_recover", "--all").code == cli.USAGE


def test_handlers_show_rate_limits_and_deadlines(command, handler_registry):
    @handler_registry.handler("tests.polite", rate_limit=(10, 60), deadline=300)
    def polite(ctx) -> None:
        """Calls a fragile service."""

    result = command("jobs_handlers")
    row = next(line.split() for line in result.out.splitlines() if line.startswith("tests.polite"))
    assert row[-6:-4] == ["10/60s", "5m00s"]  # RATE and DEADLINE, before the description's words
    data = {h["name"]: h for h in json.loads(command("jobs_handlers", "--json").out)}
    assert (data["tests.polite"]["rate_limit"], data["tests.polite"]["deadline_seconds"]) == ([10, 60], 300)
