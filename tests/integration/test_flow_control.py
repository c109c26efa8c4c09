"""Flow control decided in the claim, shown on real qcluster processes racing for the same work."""

from datetime import timedelta

import pytest

from jobs import services
from jobs.models import Job
from tests.integration import handlers  # noqa: F401  (registers the handlers the clusters run)
from tests.integration.cluster import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def max_overlap(jobs: list[Job]) -> int:
    """The most jobs that ran at the same moment, from their recorded start and finish."""
    edges = sorted([(job.started_at, 1) for job in jobs] + [(job.finished_at, -1) for job in jobs])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def all_done(ids: list[int]) -> bool:
    return Job.objects.filter(pk__in=ids, status=Job.Status.SUCCEEDED).count() == len(ids)


def test_two_clusters_never_exceed_a_handler_concurrency_limit(two_clusters):
    ids = [services.job_enqueue(handler="tests.limited", args={"seconds": 0.3}).pk for _ in range(12)]
    wait_for(lambda: all_done(ids), timeout=60, message="limited jobs to finish")
    jobs = list(Job.objects.filter(pk__in=ids))
    assert max_overlap(jobs) == 2  # four workers in all, two at a time
    assert len({job.reserved_by for job in jobs}) == 2


def test_two_clusters_never_exceed_a_queue_limit(two_clusters):
    services.queue_set_limit(name="default", limit=1)
    ids = [services.job_enqueue(handler="jobs.sleep", args={"seconds": 0.2, "steps": 1}).pk for _ in range(6)]
    wait_for(lambda: all_done(ids), timeout=60, message="queue-limited jobs to finish")
    assert max_overlap(list(Job.objects.filter(pk__in=ids))) == 1


def test_a_rate_limit_holds_over_two_clusters(two_clusters):
    ids = [services.job_enqueue(handler="tests.rated").pk for _ in range(9)]
    wait_for(lambda: all_done(ids), timeout=60, message="rated jobs to finish")
    starts = sorted(Job.objects.filter(pk__in=ids).values_list("reserved_at", flat=True))
    for window in zip(starts, starts[3:]):  # any four consecutive starts span at least the window
        assert (window[1] - window[0]).total_seconds() >= 2.0


def test_an_urgent_job_starts_among_the_next_few_despite_a_backlog(worker_cluster):
    backlog = [services.job_enqueue(handler="jobs.sleep", args={"seconds": 0.2, "steps": 1}, priority=-10)
               for _ in range(200)]  # fmt: skip
    wait_for(lambda: Job.objects.filter(status=Job.Status.RUNNING).count() == 2, message="both workers busy")
    urgent = services.job_enqueue(handler="jobs.noop", priority=10)
    wait_for(lambda: Job.objects.get(pk=urgent.pk).status == Job.Status.SUCCEEDED, timeout=30, message="urgent job")
    urgent.refresh_from_db()
    overtaken = Job.objects.filter(pk__in=[j.pk for j in backlog], started_at__gt=urgent.created_at,
                                   started_at__lt=urgent.started_at).count()  # fmt: skip
    # At most what the cluster had already reserved: its two workers and its prefetch, plus the one in hand.
    assert overtaken <= 2 + 1 + 1


def test_pausing_a_queue_lets_running_jobs_finish_and_starts_nothing_until_resumed(worker_cluster):
    long = [services.job_enqueue(handler="jobs.sleep", args={"seconds": 1.5, "steps": 15}) for _ in range(2)]
    wait_for(lambda: all(Job.objects.get(pk=j.pk).status == Job.Status.RUNNING for j in long), message="running")
    services.queue_pause(name="default")
    waiting = [services.job_enqueue(handler="jobs.noop") for _ in range(5)]
    wait_for(lambda: all_done([j.pk for j in long]), message="running jobs to finish despite the pause")
    # The cluster goes on reporting and sweeping; none of the waiting jobs may have started meanwhile.
    wait_for(lambda: Job.objects.filter(pk__in=[j.pk for j in waiting], status=Job.Status.QUEUED).count() == 5,
             message="waiting jobs queued (any prefetched one released)")
    assert not Job.objects.filter(pk__in=[j.pk for j in waiting], started_at__isnull=False).exists()
    services.queue_resume(name="default")
    wait_for(lambda: all_done([j.pk for j in waiting]), message="waiting jobs to run after resume")
    # Resumed in order: the oldest waiting job is among the first the two workers started (which of the two
    # records its start first is a race between the workers).
    first_two = Job.objects.filter(pk__in=[j.pk for j in waiting]).order_by("started_at", "id")[:2]
    assert waiting[0].pk in {job.pk for job in first_two}


def test_a_job_past_its_deadline_expires_unrun(worker_cluster):
    services.queue_pause(name="default")
    job = services.job_enqueue(handler="jobs.noop")
    late = services.job_enqueue(handler="jobs.noop", deadline=job.created_at + timedelta(seconds=1))
    wait_for(lambda: Job.objects.get(pk=late.pk).status == Job.Status.EXPIRED, message="job to expire")
    services.queue_resume(name="default")
    wait_for(lambda: all_done([job.pk]), message="the other job to run")
    assert Job.objects.get(pk=late.pk).started_at is None
