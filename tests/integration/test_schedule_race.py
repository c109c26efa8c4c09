"""Three real clusters and one schedule firing every second: each firing runs exactly once."""

from collections import Counter

import pytest
from django.db.models import Count

from jobs import services
from jobs.models import Job, JobEvent
from tests.integration.cluster import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FIRINGS = 8


def test_each_firing_of_an_every_second_schedule_runs_once_over_three_clusters(three_clusters):
    schedule = services.schedule_create(name="every-second", handler="jobs.noop", cron="* * * * * *", overlap="allow")
    runs = Job.objects.filter(schedule=schedule, started_at__isnull=False)
    # Until the race is real: enough firings, taken by more than one cluster (which cluster's pusher is
    # first to a due firing is up to the machine's scheduler, so a loaded one may hand a few to one).
    wait_for(lambda: runs.count() >= FIRINGS and runs.order_by().values("reserved_by").distinct().count() >= 2,
             timeout=60, message=f"{FIRINGS} firings to start, on at least two clusters")  # fmt: skip
    services.schedule_pause(schedule=schedule)
    wait_for(lambda: not Job.objects.filter(schedule=schedule, status__in=Job.ACTIVE).exists(), timeout=30,
             message="the last firings to finish")  # fmt: skip

    fired = Job.objects.filter(schedule=schedule).exclude(status=Job.Status.CANCELLED)
    per_firing = fired.values("scheduled_for").annotate(n=Count("id"))
    assert len(per_firing) >= FIRINGS
    assert {row["n"] for row in per_firing} == {1}  # one job per (schedule, firing time)
    starts = Counter(JobEvent.objects.filter(job__schedule=schedule, kind="started").values_list("job_id", flat=True))
    assert set(starts.values()) == {1}  # each firing's job started once
    assert set(fired.values_list("status", flat=True)) == {Job.Status.SUCCEEDED}
