"""A whole import: summary, progress, errors, idempotency, cancellation, throttle, one at a time."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from jobs import runner
from jobs.context import JobContext
from jobs.exceptions import JobCancelled
from jobs.models import Job
from jobs.services import job_cancel, job_enqueue, job_reserve, job_start
from tests.updater.helpers import in_thread, stored_feed, upload
from tests.waiting import wait_for
from updater.models import Feed, Product
from updater.services import feed_import_run, feed_import_start, feed_rows_import_start
from updater.services.imports import MAX_REPORTED_ERRORS

pytestmark = pytest.mark.django_db


def csv_feed(rows: int, *, start: int = 0, stock: int = 1) -> str:
    return "sku,price,stock\n" + "".join(f"S{n:04d},{n}.50,{stock}\n" for n in range(start, start + rows))


def test_import_summarises_what_it_did():
    feed = stored_feed("sku,price,stock\nA,1.00,1\nB,2.00,x\n\nC,3.00,3\nA,1.50,1\n")
    summary = feed_import_run(feed=feed, chunk_size=3)
    assert {key: summary[key] for key in ("rows", "created", "updated", "unchanged", "invalid", "chunks")} == {
        "rows": 4, "created": 2, "updated": 1, "unchanged": 0, "invalid": 1, "chunks": 2
    }  # fmt: skip
    assert summary["errors"] == [{"line": 3, "reason": "stock: 'x' is not a whole number"}]
    assert summary["duration_seconds"] >= 0 and summary["feed_id"] == feed.pk
    assert Feed.objects.get(pk=feed.pk).rows == 4


def test_only_the_first_errors_are_kept_but_all_are_counted():
    feed = stored_feed("sku,stock\n" + "A,-1\n" * (MAX_REPORTED_ERRORS + 5))
    summary = feed_import_run(feed=feed)
    assert summary["invalid"] == MAX_REPORTED_ERRORS + 5
    assert len(summary["errors"]) == MAX_REPORTED_ERRORS
    assert summary["errors_omitted"] == 5
    assert summary["errors"][-1]["line"] == MAX_REPORTED_ERRORS + 1


def test_the_same_feed_twice_changes_nothing_the_second_time():
    feed = stored_feed(csv_feed(30))
    assert feed_import_run(feed=feed, chunk_size=7)["created"] == 30
    Product.objects.update(updated_at=timezone.now() - timedelta(days=1))
    before = list(Product.objects.values_list("sku", "price", "stock", "updated_at"))
    second = feed_import_run(feed=feed, chunk_size=7)
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 30)
    assert list(Product.objects.values_list("sku", "price", "stock", "updated_at")) == before


def test_jsonl_and_csv_feeds_give_the_same_catalogue():
    feed_import_run(feed=stored_feed("sku,price,active\nA,0.10,true\nB,5,no\n"))
    csv_state = list(Product.objects.values_list("sku", "price", "active"))
    Product.objects.all().delete()
    feed_import_run(feed=stored_feed('{"sku": "A", "price": 0.10, "active": true}\n{"sku": "B", "price": 5, "active": false}\n', "f.jsonl"))
    assert list(Product.objects.values_list("sku", "price", "active")) == csv_state


def running_job(feed: Feed) -> Job:
    job = job_enqueue(handler="updater.import_feed", args={"feed_id": feed.pk})
    return job_start(job_id=job.pk, cluster=None, worker="test")


class CancelAfterFirstChunk(JobContext):
    """A real context that also asks for a cancel once the first chunk is reported."""

    def progress(self, **kwargs) -> None:
        super().progress(**kwargs)
        if self.job.cancel_requested_at is None and kwargs["done"]:
            self.job = job_cancel(job=self.job)


def test_a_cancel_stops_the_import_at_the_next_chunk(monkeypatch):
    monkeypatch.setattr("jobs.context.CANCEL_CHECK_SECONDS", 0)  # read the flag at every check
    feed = stored_feed(csv_feed(30))
    job = running_job(feed)
    with pytest.raises(JobCancelled):
        feed_import_run(feed=feed, ctx=CancelAfterFirstChunk(job), chunk_size=10)
    assert Product.objects.count() == 10  # the applied chunk stays
    job.refresh_from_db()
    assert job.progress["done"] == 10 and job.progress["total"] == 30
    assert job.progress["message"].startswith("cancelled after 10 of about 30 rows: 10 created")
    assert job.events.filter(kind="log", message__startswith="cancelled after 10").exists()


def test_a_retried_import_starts_over_safely(monkeypatch):
    monkeypatch.setattr("jobs.context.CANCEL_CHECK_SECONDS", 0)
    feed = stored_feed(csv_feed(30))
    with pytest.raises(JobCancelled):
        feed_import_run(feed=feed, ctx=CancelAfterFirstChunk(running_job(feed)), chunk_size=10)
    summary = feed_import_run(feed=feed, chunk_size=10)
    assert (summary["created"], summary["unchanged"]) == (20, 10)
    assert Product.objects.count() == 30


@pytest.mark.django_db(transaction=True)
def test_a_running_import_is_cancelled_through_the_job_api_between_chunks():
    job = feed_import_start(upload=upload(csv_feed(200)), requested_by=None, chunk_size=5, pause_seconds=0.05)
    worker = in_thread(lambda: runner.run(job.pk))
    wait_for(lambda: (Job.objects.get(pk=job.pk).progress or {}).get("done"), message="the first chunk")
    job_cancel(job=Job.objects.get(pk=job.pk))
    worker.join(timeout=30)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    applied = Product.objects.count()
    assert 0 < applied < 200 and applied % 5 == 0  # whole chunks only
    assert job.progress["message"].startswith(f"cancelled after {applied} of about 200 rows")


class Recording(JobContext):
    """A real context that also keeps every progress report."""

    def __init__(self, job: Job):
        super().__init__(job)
        self.reports = []

    def progress(self, **kwargs) -> None:
        super().progress(**kwargs)
        self.reports.append((kwargs["done"], self._total))


def test_the_total_rows_are_shown_before_the_first_chunk():
    feed = stored_feed(csv_feed(12))
    context = Recording(running_job(feed))
    feed_import_run(feed=feed, ctx=context, chunk_size=5, pause_seconds=0.01)
    assert context.reports[0] == (0, 12)
    assert context.reports[-1] == (12, 12)


def test_the_job_reports_progress_and_its_result():
    job = feed_import_start(upload=upload(csv_feed(12)), requested_by=None, chunk_size=5)
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress["done"], job.progress["total"]) == (12, 12)
    assert "rate" in job.progress
    assert job.result["created"] == 12 and job.result["chunks"] == 3


def test_throttle_options_are_carried_by_the_job_and_applied():
    job = feed_import_start(
        upload=upload(csv_feed(6)), requested_by=None, chunk_size=2, max_rows_per_second=1000, pause_seconds=0.01
    )
    assert job.args == {"feed_id": job.args["feed_id"], "chunk_size": 2, "max_rows_per_second": 1000, "pause_seconds": 0.01}
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["throttled_seconds"] > 0  # it waited between its three chunks


def test_the_throttle_from_settings_applies_when_the_job_gives_none(settings):
    settings.UPDATER_MAX_ROWS_PER_SECOND = 10  # 2 rows, then a wait until 0.2 s have passed
    summary = feed_import_run(feed=stored_feed(csv_feed(4)), chunk_size=2)
    assert summary["throttled_seconds"] > 0


def test_imports_run_one_at_a_time_per_catalogue():
    first = feed_rows_import_start(rows=[{"sku": "A"}], requested_by=None)
    second = feed_rows_import_start(rows=[{"sku": "B"}], requested_by=None)
    assert first.concurrency_key == second.concurrency_key and first.concurrency_limit == 1
    assert job_reserve(cluster="c1", queues=[first.queue], capacity=5) == [(first.pk, first.timeout)]
    assert job_reserve(cluster="c2", queues=[first.queue], capacity=5) == []  # held back while the first runs
    assert Job.objects.get(pk=second.pk).status == Job.Status.QUEUED


def test_an_import_whose_feed_file_is_gone_fails_without_retries():
    job = feed_import_start(upload=upload(csv_feed(3)), requested_by=None)
    feed = Feed.objects.get(pk=job.args["feed_id"])
    feed.file.delete(save=False)
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 1
    assert "gone from storage" in job.error["message"]


@pytest.mark.django_db(transaction=True)
def test_chunks_written_on_the_writer_thread_give_the_same_result_as_inline():
    content = (
        "sku,name,price,stock\n"
        + "".join(f"S{n:03d},Item {n},{n}.25,{n}\n" for n in range(40))
        + "S005,Again,9.99,\nBAD,,-1,1\nS007,,,\n S008 , Trim ,1,2\n"
    )
    feed = stored_feed(content)
    with transaction.atomic():  # a caller's transaction: chunks are written inline, in it
        inline = feed_import_run(feed=feed, chunk_size=7)
    inline_state = list(Product.objects.values_list("sku", "name", "price", "stock"))
    Product.objects.all().delete()
    threaded = feed_import_run(feed=feed, chunk_size=7)  # no transaction: a writer thread
    assert list(Product.objects.values_list("sku", "name", "price", "stock")) == inline_state
    for summary in (inline, threaded):
        del summary["duration_seconds"], summary["rows_per_second"], summary["throttled_seconds"]
    assert threaded == inline
    assert [inline[key] for key in ("rows", "created", "updated", "unchanged", "invalid")] == [44, 40, 2, 1, 1]
    assert Product.objects.get(sku="S005").name == "Again" and Product.objects.get(sku="S008").name == "Trim"
