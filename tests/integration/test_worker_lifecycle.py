"""Real qcluster processes: jobs run once, survive a kill -9 of the whole cluster, and stop on cancel."""

import pytest
from django.utils import timezone

from jobs import services
from jobs.models import Job, JobEvent
from tests.integration.cluster import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def status_of(job: Job) -> str:
    job.refresh_from_db()
    return job.status


def test_enqueued_job_runs_to_success_in_a_real_worker(worker_cluster):
    job = services.job_enqueue(handler="jobs.sleep", args={"seconds": 0.2, "steps": 2})

    wait_for(lambda: status_of(job) == Job.Status.SUCCEEDED, message="job to succeed")
    assert job.attempts == 1
    assert job.result == {"slept": 0.2}
    assert job.progress["done"] == 2


def test_a_job_killed_with_its_cluster_runs_again_after_restart(worker_cluster):
    job = services.job_enqueue(handler="jobs.sleep", args={"seconds": 4, "steps": 40}, max_attempts=3)
    wait_for(lambda: status_of(job) == Job.Status.RUNNING and job.progress.get("done", 0) >= 2, message="job running")

    worker_cluster.kill()
    assert status_of(job) == Job.Status.RUNNING  # nothing left to say otherwise: only the heartbeat stops
    worker_cluster.start()

    wait_for(lambda: status_of(job) == Job.Status.SUCCEEDED, timeout=60, message="job to succeed after restart")
    assert job.attempts == 2  # the killed attempt counted
    kinds = list(job.events.values_list("kind", flat=True))
    assert kinds == ["started", "requeued", "started", "succeeded"]


def test_a_job_killed_on_its_last_attempt_ends_failed(worker_cluster):
    job = services.job_enqueue(handler="jobs.sleep", args={"seconds": 30, "steps": 300}, max_attempts=1)
    wait_for(lambda: status_of(job) == Job.Status.RUNNING, message="job running")

    worker_cluster.kill()
    worker_cluster.start()

    wait_for(lambda: status_of(job) == Job.Status.FAILED, timeout=60, message="job to fail")
    assert job.error["type"] == "WorkerLost"
    assert job.attempts == 1


def test_jobs_reserved_by_a_killed_cluster_run_elsewhere_within_the_stale_window(two_clusters):
    first, second = two_clusters
    jobs = [services.job_enqueue(handler="jobs.sleep", args={"seconds": 2, "steps": 20}) for _ in range(8)]
    wait_for(lambda: Job.objects.filter(status=Job.Status.RUNNING).count() == 4, message="both clusters busy")
    held = set(Job.objects.filter(status__in=Job.IN_FLIGHT).values_list("reserved_by", flat=True))
    assert len(held) == 2  # each cluster reserved its own share, no more than it can start soon
    first.kill()

    wait_for(lambda: all(status_of(job) == Job.Status.SUCCEEDED for job in jobs), timeout=60,
             message="every job to succeed on the surviving cluster")
    assert sum(job.events.filter(kind=JobEvent.Kind.SUCCEEDED).count() for job in jobs) == 8  # each once
    assert Job.objects.filter(reserved_by="").count() == 0


def test_two_clusters_racing_run_each_job_exactly_once(two_clusters):
    jobs = [services.job_enqueue(handler="jobs.noop") for _ in range(60)]
    wait_for(lambda: Job.objects.filter(status=Job.Status.SUCCEEDED).count() == 60, message="all jobs done")
    assert JobEvent.objects.filter(kind=JobEvent.Kind.STARTED).count() == 60
    assert set(Job.objects.values_list("attempts", flat=True)) == {1}
    assert len(set(Job.objects.values_list("reserved_by", flat=True))) == 2  # both took work


def test_cancel_stops_a_running_job_at_its_next_check(worker_cluster, staff):
    job = services.job_enqueue(handler="jobs.sleep", args={"seconds": 60, "steps": 600})
    wait_for(lambda: status_of(job) == Job.Status.RUNNING, message="job running")

    services.job_cancel(job=job, by=staff)

    wait_for(lambda: status_of(job) == Job.Status.CANCELLED, message="job cancelled")
    assert job.progress.get("done", 0) < 600  # no progress yet when the cancel beats the first step
    kinds = list(job.events.values_list("kind", flat=True))
    assert kinds == ["started", "cancel_requested", "cancelled"]


def test_delayed_job_and_retry_backoff_do_not_start_early(worker_cluster):
    run_after = timezone.now() + timezone.timedelta(seconds=2)
    delayed = services.job_enqueue(handler="jobs.noop", run_after=run_after)
    flaky = services.job_enqueue(handler="jobs.fail", args={"succeed_on_attempt": 2}, max_attempts=2)

    wait_for(lambda: status_of(delayed) == Job.Status.SUCCEEDED, message="delayed job to run")
    wait_for(lambda: status_of(flaky) == Job.Status.SUCCEEDED, message="flaky job to succeed")
    assert delayed.started_at >= run_after
    retry_event = flaky.events.get(kind=JobEvent.Kind.RETRY_SCHEDULED)
    assert flaky.started_at > retry_event.at
    assert flaky.result == {"succeeded_on_attempt": 2}


def test_a_job_over_its_timeout_is_stopped_and_retried_then_failed(worker_cluster):
    job = services.job_enqueue(handler="jobs.sleep", args={"seconds": 30, "steps": 3}, timeout=1, max_attempts=2)

    wait_for(lambda: status_of(job) == Job.Status.FAILED, timeout=60, message="job to fail by timeout")
    assert job.attempts == 2
    assert "timed out after 1 s" in job.error["message"]
