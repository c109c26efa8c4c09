"""The one progress bar of every --wait: its lines in a log, its rate and time left."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management.base import OutputWrapper
from django.utils import timezone

from jobs.management.progress import ProgressBar
from jobs.models import Job
from tests.factories import JobFactory


@pytest.mark.django_db
def test_progress_bar_in_a_log_writes_a_line_only_when_something_changed():
    out = StringIO()
    bar = ProgressBar(OutputWrapper(out))
    job = JobFactory(handler="jobs.sleep", status=Job.Status.RUNNING, progress={"done": 1, "total": 4, "rate": 2.0})
    bar.update(job)
    job.progress = {"done": 1, "total": 4, "rate": 1.9}  # only the rate moved
    bar.update(job)
    job.status, job.progress = Job.Status.SUCCEEDED, {"done": 4, "total": 4}
    bar.update(job)
    bar.close()
    assert out.getvalue().splitlines() == [
        f"#{job.pk} jobs.sleep running [######------------------] 1/4 (25%) 2.0/s, 1.5s left",
        f"#{job.pk} jobs.sleep succeeded [########################] 4/4 (100%)",
    ]


@pytest.mark.django_db
def test_progress_bar_says_when_a_queued_job_is_due():
    job = JobFactory(run_after=timezone.now() + timedelta(minutes=10))
    assert "(attempt 1/3 due in 9m5" in ProgressBar(OutputWrapper(StringIO())).render(job)


@pytest.mark.django_db
def test_progress_bar_measures_the_rate_when_the_handler_reports_none(monkeypatch):
    clock = iter([100.0, 110.0])
    monkeypatch.setattr("jobs.management.progress.time.monotonic", lambda: next(clock))
    bar = ProgressBar(OutputWrapper(StringIO()))
    job = JobFactory(handler="updater.import_feed", status=Job.Status.RUNNING, progress={"done": 1000, "total": 6000})
    assert bar.render(job).endswith("1,000/6,000 (16%)")  # one observation: no rate yet
    job.progress = {"done": 3000, "total": 6000}
    assert bar.render(job).endswith("3,000/6,000 (50%) 200/s, 15.0s left")
