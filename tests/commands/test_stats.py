import json
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.management import cli
from jobs.models import Job
from jobs.stats import job_stats, job_status_counts
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def busy(now, settings):
    """Two queues with queued, delayed, running, stale and recently finished jobs."""
    settings.JOBS_QUEUES = ["default", "imports"]
    settings.JOBS_STALE_SECONDS = 15
    ago = lambda **kw: now - timedelta(**kw)  # noqa: E731
    JobFactory(status=Job.Status.QUEUED, run_after=ago(minutes=5), created_at=ago(minutes=6))
    JobFactory(status=Job.Status.QUEUED, run_after=ago(seconds=30))
    JobFactory(status=Job.Status.QUEUED, run_after=now + timedelta(hours=1))  # delayed
    JobFactory(status=Job.Status.RUNNING, heartbeat_at=ago(seconds=1))
    JobFactory(status=Job.Status.RUNNING, heartbeat_at=ago(minutes=2), queue="imports")  # stale
    JobFactory(status=Job.Status.SUCCEEDED, finished_at=ago(seconds=10))
    JobFactory(status=Job.Status.FAILED, finished_at=ago(seconds=50))
    JobFactory(status=Job.Status.SUCCEEDED, finished_at=ago(minutes=30))
    JobFactory(status=Job.Status.CANCELLED, finished_at=ago(hours=2))  # outside both windows


def test_stats_count_every_status(busy, now):
    assert job_stats(now=now)["status"] == {
        "waiting": 0, "queued": 3, "reserved": 0, "running": 2, "succeeded": 2, "failed": 1, "cancelled": 0,
        "expired": 0, "total": 8,
    }  # the cancelled job finished two hours ago: outside the last hour


def test_stats_count_finished_jobs_only_over_the_last_hour(busy, now):
    JobFactory(status=Job.Status.SUCCEEDED, finished_at=now - timedelta(days=2))
    assert job_stats(now=now)["status"]["succeeded"] == 2


def test_stats_per_queue_depth_age_and_running(busy, now):
    default, imports = job_stats(now=now)["queues"]
    state = {"weight": 1, "paused": False, "paused_at": None, "paused_by": None, "concurrency_limit": None}
    assert default == {"queue": "default", "waiting": 0, "queued": 3, "due": 2, "delayed": 1, "reserved": 0, "running": 1,
                       "stale": 0, "oldest_age_seconds": 300.0, **state}
    assert imports == {"queue": "imports", "waiting": 0, "queued": 0, "due": 0, "delayed": 0, "reserved": 0, "running": 1,
                       "stale": 1, "oldest_age_seconds": None, **state}


def test_stats_throughput_of_the_last_minute_and_hour(busy, now):
    throughput = job_stats(now=now)["throughput"]
    assert throughput["last_minute"] == {"succeeded": 1, "failed": 1, "cancelled": 0, "expired": 0, "total": 2,
                                         "per_second": round(2 / 60, 3)}
    assert throughput["last_hour"]["total"] == 3


def test_stats_cost_three_queries_whatever_the_size(busy, now, django_assert_num_queries):
    with django_assert_num_queries(3):
        job_stats(now=now)
    JobFactory.create_batch(20, status=Job.Status.QUEUED, queue="imports")
    with django_assert_num_queries(3):
        job_stats(now=now)


def test_stats_of_an_empty_table(now):
    stats = job_stats(now=now)
    assert stats["status"]["total"] == 0
    assert stats["queues"] == [{"queue": "default", "waiting": 0, "queued": 0, "due": 0, "delayed": 0, "reserved": 0, "running": 0,
                                "stale": 0, "oldest_age_seconds": None, "weight": 1, "paused": False,
                                "paused_at": None, "paused_by": None, "concurrency_limit": None}]
    assert stats["throughput"]["last_hour"]["total"] == 0


def test_status_counts_of_given_ids():
    queued = JobFactory.create_batch(2, status=Job.Status.QUEUED)
    done = JobFactory(status=Job.Status.SUCCEEDED)
    JobFactory(status=Job.Status.FAILED)  # not asked about
    counts = job_status_counts(ids=[job.pk for job in queued] + [done.pk, 999999])
    assert counts == {"waiting": 0, "queued": 2, "reserved": 0, "running": 0, "succeeded": 1, "failed": 0, "cancelled": 0,
                      "expired": 0}


def test_stats_command_prints_the_tables(command, busy):
    result = command("jobs_stats")
    assert result.code == cli.OK
    assert result.out.splitlines()[0] == (
        "Jobs: 0 waiting, 3 queued, 0 reserved, 2 running, 2 succeeded, 1 failed, 0 cancelled, 0 expired, 8 total"
    )
    assert any(line.split()[:4] == ["default", "3", "2", "1"] for line in result.out.splitlines())
    assert any(line.startswith("last minute  2") for line in result.out.splitlines())


def test_stats_command_json(command, busy):
    data = json.loads(command("jobs_stats", "--json").out)
    assert set(data) == {"generated_at", "status", "queues", "throughput"}
    assert data["status"]["total"] == 8
    assert [q["queue"] for q in data["queues"]] == ["default", "imports"]


def test_stats_command_refuses_unknown_arguments(command):
    result = command("jobs_stats", "--queue", "x")
    assert result.code == cli.USAGE
    assert "unrecognized arguments: --queue x" in result.err
