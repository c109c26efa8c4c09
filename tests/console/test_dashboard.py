"""The dashboard's own reads: finished per minute (the chart), the latest failures, what runs now, and its banners."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from jobs.dashboard import CHART_MINUTES, finished_per_minute, latest_failures
from jobs.models import Job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_finished_per_minute_buckets_the_last_hour_by_outcome(staff):
    now = timezone.now().replace(second=30, microsecond=0)
    for minutes_ago, status in [(0, "succeeded"), (0, "succeeded"), (0, "failed"), (5, "succeeded"), (59, "failed")]:
        JobFactory(status=status, finished_at=now - timedelta(minutes=minutes_ago), requested_by=staff)
    JobFactory(status=Job.Status.SUCCEEDED, finished_at=now - timedelta(minutes=61), requested_by=staff)
    JobFactory(status=Job.Status.CANCELLED, finished_at=now, requested_by=staff)  # neither bar

    minutes = finished_per_minute(now=now)

    assert len(minutes) == CHART_MINUTES
    assert minutes[-1].minute == now.replace(second=0) and (minutes[-1].succeeded, minutes[-1].failed) == (2, 1)
    assert (minutes[-6].succeeded, minutes[-6].failed) == (1, 0)
    assert (minutes[0].succeeded, minutes[0].failed) == (0, 1)
    assert sum(m.succeeded + m.failed for m in minutes) == 5


def test_latest_failures_are_newest_first(staff):
    now = timezone.now()
    old = JobFactory(status=Job.Status.FAILED, finished_at=now - timedelta(hours=2), requested_by=staff)
    new = JobFactory(status=Job.Status.FAILED, finished_at=now, requested_by=staff)
    JobFactory(status=Job.Status.SUCCEEDED, finished_at=now, requested_by=staff)
    assert [job.pk for job in latest_failures()] == [new.pk, old.pk]


def test_the_chart_draws_a_bar_per_busy_minute_scaled_to_the_peak(staff):
    now = timezone.now().replace(second=30, microsecond=0)
    JobFactory.create_batch(4, status=Job.Status.SUCCEEDED, finished_at=now, requested_by=staff)
    JobFactory(status=Job.Status.FAILED, finished_at=now - timedelta(minutes=1), requested_by=staff)
    html = Template("{% load console %}{% throughput_chart minutes %}").render(
        Context({"minutes": finished_per_minute(now=now)})
    )
    assert html.count('<rect class="ok"') == 1 and html.count('<rect class="fail"') == 1
    assert 'height="120.0"' in html  # the peak minute fills the chart
    assert "peak 4/min" in html


def test_running_now_shows_worker_elapsed_heartbeat_and_progress(admin_web, settings):
    from django.urls import reverse

    now = timezone.now()
    beating = JobFactory(
        status=Job.Status.RUNNING, worker="host-a:41", started_at=now - timedelta(minutes=3), heartbeat_at=now,
        progress={"done": 30, "total": 120, "message": "chunk 3"}, handler="jobs.sleep",
    )  # fmt: skip
    dead = JobFactory(
        status=Job.Status.RUNNING, worker="host-b:7", started_at=now - timedelta(minutes=10),
        heartbeat_at=now - timedelta(seconds=settings.JOBS_STALE_SECONDS + 60),
    )  # fmt: skip
    html = admin_web.get(reverse("jobs:dashboard")).content.decode()
    assert html.index(f'data-running="{dead.pk}"') < html.index(f'data-running="{beating.pk}"')  # longest first
    row = html.split(f'data-running="{beating.pk}"')[1].split("</tr>")[0]
    assert "host-a:41" in row and "3m00s" in row and 'value="25"' in row and "chunk 3" in row
    stale_row = html.split(f'data-running="{dead.pk}"')[1].split("</tr>")[0]
    assert "data-stale" in stale_row and "(stale)" in stale_row
    assert 'data-banner="stale">1 running job stopped beating' in html


def test_banners_say_when_no_cluster_is_alive(admin_web):
    from django.urls import reverse

    from jobs.models import Cluster

    JobFactory.create_batch(2, status=Job.Status.QUEUED)
    html = admin_web.get(reverse("jobs:dashboard")).content.decode()
    assert 'data-banner="no-workers"' in html and "2 active jobs wait until one starts" in html
    assert 'data-banner="stale"' not in html
    assert "No job is running." in html
    now = timezone.now()
    Cluster.objects.create(id="h:1", host="h", pid=1, workers=2, started_at=now, seen_at=now)
    assert 'data-banner="no-workers"' not in admin_web.get(reverse("jobs:dashboard")).content.decode()
