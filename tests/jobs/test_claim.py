"""The reserve statement: what a cluster may take, in what order, under which limits."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import registry, services
from jobs.broker import queue_order
from jobs.exceptions import InvalidJob
from jobs.models import Cluster, Job, JobEvent
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

QUEUES = ["default", "critical", "low"]  # jobs go to the first by default


@pytest.fixture(autouse=True)
def _queues(settings):
    settings.JOBS_QUEUES = QUEUES
    settings.JOBS_QUEUE_WEIGHTS = {"critical": 6, "default": 3, "low": 1}


@registry.handler("tests.claim.keyed", concurrency_limit=2, concurrency_key=lambda args: args["key"])
def keyed(ctx, *, key: str) -> None:
    """Two at a time per key."""


def enqueue(handler="jobs.noop", **kwargs) -> Job:
    return services.job_enqueue(handler=handler, **kwargs)


def reserve(cluster="c1", queues=("default",), capacity=10, **kwargs) -> list[int]:
    batch = services.job_reserve(cluster=cluster, queues=list(queues), capacity=capacity, **kwargs)
    return [job_id for job_id, _ in batch]


def test_higher_priority_is_reserved_first_then_oldest_then_lowest_id():
    low = enqueue(priority=-10)
    first, second = enqueue(priority=0), enqueue(priority=0)
    high = enqueue(priority=10)
    assert reserve() == [high.pk, first.pk, second.pk, low.pk]
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.RESERVED}


def test_an_urgent_job_overtakes_a_backlog_within_the_cluster_capacity():
    backlog = [enqueue(priority=-10) for _ in range(200)]
    held = reserve(capacity=3)  # two workers busy and one job prefetched
    for job_id in held[:2]:
        services.job_start(job_id=job_id, cluster="c1", worker="w")
    urgent = enqueue(priority=10)
    assert reserve(capacity=3) == []  # the cluster holds all it may
    running = Job.objects.get(pk=held[0])
    services.job_succeed(job=running, result=None)
    assert reserve(capacity=3) == [urgent.pk]
    assert Job.objects.filter(pk__in=[j.pk for j in backlog], status=Job.Status.QUEUED).count() == 197


def test_a_cluster_takes_no_more_than_its_capacity_counting_what_it_runs():
    for _ in range(5):
        enqueue()
    assert len(reserve(capacity=2)) == 2
    assert reserve(capacity=2) == []
    assert len(reserve(cluster="c2", capacity=2)) == 2  # capacity is per cluster


def test_queues_are_served_in_the_order_given_and_a_later_queue_fills_the_rest():
    low = enqueue(queue="low")
    crit = enqueue(queue="critical")
    default = enqueue(queue="default", priority=100)
    assert reserve(queues=["low", "critical", "default"], capacity=2) == [low.pk, crit.pk]
    assert reserve(queues=["low", "critical", "default"], capacity=3) == [default.pk]


def test_weighted_order_puts_each_queue_first_in_proportion_to_its_weight():
    random.seed(7)
    firsts = Counter(queue_order({"critical": 6, "default": 3, "low": 1}, strict=False)[0] for _ in range(5000))
    shares = {name: count / 5000 for name, count in firsts.items()}
    assert shares["critical"] == pytest.approx(0.6, abs=0.03)
    assert shares["default"] == pytest.approx(0.3, abs=0.03)
    assert shares["low"] == pytest.approx(0.1, abs=0.03)  # no queue with work starves


def test_strict_order_is_by_weight():
    assert queue_order({"low": 1, "critical": 6, "default": 3}, strict=True) == ["critical", "default", "low"]


def test_a_paused_queue_yields_nothing_and_resumes_in_order(staff):
    jobs = [enqueue() for _ in range(3)]
    other = enqueue(queue="low")
    queue = services.queue_pause(name="default", by=staff)
    assert (queue.paused_by, queue.is_paused) == (staff, True)
    assert reserve(queues=["default", "low"]) == [other.pk]
    services.queue_pause(name="default")  # idempotent: who paused it first stays
    services.queue_resume(name="default")
    assert reserve() == [job.pk for job in jobs]


def test_pausing_an_unknown_queue_is_refused():
    with pytest.raises(InvalidJob) as error:
        services.queue_pause(name="nowhere")
    assert "queue" in error.value.errors


def test_a_concurrency_key_admits_its_limit_in_flight_even_within_one_batch():
    a = [enqueue("tests.claim.keyed", args={"key": "a"}) for _ in range(3)]
    b = enqueue("tests.claim.keyed", args={"key": "b"})
    assert reserve() == [a[0].pk, a[1].pk, b.pk]
    assert reserve(cluster="c2") == []  # the limit holds over all clusters
    services.job_start(job_id=a[0].pk, cluster="c1", worker="w")
    services.job_succeed(job=Job.objects.get(pk=a[0].pk), result=None)
    assert reserve(cluster="c2") == [a[2].pk]


def test_a_blocked_key_does_not_hold_back_the_jobs_behind_it():
    blocked = [enqueue("tests.claim.keyed", args={"key": "a"}, priority=5) for _ in range(6)]
    free = enqueue(priority=0)
    # One batch may fill its scan with one key's jobs; the next skips the key once it is full.
    assert reserve(capacity=3) == [blocked[0].pk, blocked[1].pk]
    assert reserve(capacity=3) == [free.pk]


def test_a_queue_limit_caps_its_jobs_in_flight_over_all_clusters():
    services.queue_set_limit(name="default", limit=2)
    for _ in range(5):
        enqueue()
    assert len(reserve(cluster="c1")) == 2
    assert reserve(cluster="c2") == []
    with pytest.raises(InvalidJob):
        services.queue_set_limit(name="default", limit=0)


def test_a_rate_limit_allows_n_starts_per_window_over_all_clusters():
    jobs = [enqueue() for _ in range(5)]
    rate = [services.RateLimit(handler="jobs.noop", limit=2, seconds=60)]
    assert reserve(cluster="c1", rate_limits=rate) == [jobs[0].pk, jobs[1].pk]
    assert reserve(cluster="c2", rate_limits=rate) == []
    later = timezone.now() + timedelta(seconds=61)
    assert reserve(cluster="c2", rate_limits=rate, now=later) == [jobs[2].pk, jobs[3].pk]


def test_a_job_past_its_deadline_is_never_reserved_and_expires():
    soon = timezone.now() + timedelta(seconds=30)
    job = enqueue(deadline=soon)
    later = soon + timedelta(seconds=1)
    assert reserve(now=later) == []
    assert services.job_expire_overdue(now=later) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.EXPIRED
    assert list(job.events.values_list("kind", flat=True)) == [JobEvent.Kind.EXPIRED]


def test_a_reserved_job_past_its_deadline_does_not_start():
    job = enqueue(deadline=timezone.now() + timedelta(seconds=30))
    reserve()
    later = timezone.now() + timedelta(seconds=31)
    assert services.job_start(job_id=job.pk, cluster="c1", worker="w", now=later) is None


def test_a_deadline_must_leave_time_to_start():
    with pytest.raises(InvalidJob) as error:
        enqueue(delay=60, deadline=timezone.now() + timedelta(seconds=30))
    assert "deadline" in error.value.errors


def test_a_handler_default_deadline_counts_from_when_the_job_is_due():
    @registry.handler("tests.claim.hurry", deadline=120)
    def hurry(ctx) -> None:
        """Worthless after two minutes."""

    job = enqueue("tests.claim.hurry", delay=60)
    assert job.deadline == job.run_after + timedelta(seconds=120)


def test_only_the_reserving_cluster_starts_a_reserved_job():
    job = enqueue()
    reserve(cluster="c1")
    assert services.job_start(job_id=job.pk, cluster="c2", worker="w") is None
    assert services.job_start(job_id=job.pk, cluster=None, worker="w") is None  # not queued any more
    assert services.job_start(job_id=job.pk, cluster="c1", worker="w").status == Job.Status.RUNNING


def test_jobs_reserved_by_a_dead_cluster_go_back_to_the_queue(settings):
    now = timezone.now()
    Cluster.objects.create(id="alive:1", host="alive", pid=1, workers=2, started_at=now, seen_at=now)
    kept = JobFactory(status=Job.Status.RESERVED, reserved_by="alive:1")
    orphan = JobFactory(status=Job.Status.RESERVED, reserved_by="dead:2", attempts=1)
    assert services.job_release_reserved() == 1
    orphan.refresh_from_db()
    assert (orphan.status, orphan.reserved_by, orphan.attempts) == (Job.Status.QUEUED, "", 1)  # no attempt lost
    assert Job.objects.get(pk=kept.pk).status == Job.Status.RESERVED
    later = now + timedelta(seconds=settings.JOBS_STALE_SECONDS + 1)
    assert services.job_release_reserved(now=later) == 1  # once it stops reporting


def test_a_reserved_job_of_a_paused_queue_does_not_start_and_is_released():
    job = enqueue()
    reserve()
    now = timezone.now()
    Cluster.objects.create(id="c1", host="h", pid=1, workers=2, started_at=now, seen_at=now)
    services.queue_pause(name="default")
    assert services.job_start(job_id=job.pk, cluster="c1", worker="w") is None
    assert services.job_release_reserved() == 1
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_cancelling_a_reserved_job_is_immediate():
    job = enqueue()
    reserve()
    services.job_cancel(job=job)
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED
    assert services.job_start(job_id=job.pk, cluster="c1", worker="w") is None


def test_a_held_back_job_says_why():
    from jobs.selectors import job_wait_reason

    jobs = [enqueue("tests.claim.keyed", args={"key": "a"}) for _ in range(3)]
    reserve()
    assert job_wait_reason(job=Job.objects.get(pk=jobs[2].pk)) == "concurrency limit 2 reached for tests.claim.keyed:a"
    services.queue_pause(name="default")
    assert job_wait_reason(job=Job.objects.get(pk=jobs[2].pk)) == "queue default is paused"
    assert job_wait_reason(job=Job.objects.get(pk=jobs[0].pk)) is None  # reserved: not waiting
    later = enqueue(delay=600)
    assert job_wait_reason(job=later).startswith("not due until ")


def test_a_reservation_older_than_any_wait_is_released_even_from_a_live_cluster(settings):
    now = timezone.now()
    Cluster.objects.create(id="c1", host="h", pid=1, workers=2, started_at=now, seen_at=now)
    job = enqueue()
    reserve()
    assert services.job_release_reserved() == 0
    Job.objects.filter(pk=job.pk).update(reserved_at=now - timedelta(seconds=settings.JOBS_MAX_TIMEOUT + 3600))
    assert services.job_release_reserved() == 1
    assert services.job_start(job_id=job.pk, cluster="c1", worker="w") is None  # the buffered copy is skipped
