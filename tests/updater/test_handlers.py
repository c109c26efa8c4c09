"""The updater.import_feed handler as the job system sees it."""

import pytest

from jobs import runner
from jobs.exceptions import InvalidJob
from jobs.models import Job
from jobs.registry import get_handler
from jobs.services import job_enqueue
from tests.updater.helpers import stored_feed
from updater.models import Product

pytestmark = pytest.mark.django_db


def test_the_handler_is_registered_one_at_a_time_per_catalogue():
    spec = get_handler("updater.import_feed")
    assert spec.concurrency_limit == 1
    assert spec.concurrency_key({"feed_id": 1}) == spec.concurrency_key({"feed_id": 2})


def test_the_handler_runs_a_feed_enqueued_through_the_job_api_shape():
    feed = stored_feed("sku,stock\nA,1\n")
    job = job_enqueue(handler="updater.import_feed", args={"feed_id": feed.pk, "chunk_size": 10})
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.result["created"] == 1
    assert Product.objects.get().stock == 1


@pytest.mark.parametrize(
    "args, message",
    [
        ({}, "no feed"),
        ({"feed_id": 999}, "no feed"),
        ({"feed_id": "1"}, "no feed"),
        ({"feed_id": True}, "no feed"),
        ({"feed_id": "FEED", "colour": 1}, "Unknown argument(s): colour"),
        ({"feed_id": "FEED", "chunk_size": 0}, "chunk_size"),
        ({"feed_id": "FEED", "chunk_size": 2.5}, "chunk_size"),
        ({"feed_id": "FEED", "pause_seconds": "long"}, "pause_seconds"),
        ({"feed_id": "FEED", "max_rows_per_second": -5}, "max_rows_per_second"),
    ],
)
def test_bad_handler_arguments_are_refused_at_enqueue(args, message):
    feed = stored_feed("sku\nA\n")
    args = {key: feed.pk if value == "FEED" else value for key, value in args.items()}
    with pytest.raises(InvalidJob) as caught:
        job_enqueue(handler="updater.import_feed", args=args)
    assert message in str(caught.value.errors)
    assert not Job.objects.exists()


def test_a_feed_deleted_after_enqueue_fails_permanently():
    feed = stored_feed("sku\nA\n")
    job = job_enqueue(handler="updater.import_feed", args={"feed_id": feed.pk})
    feed.delete()
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 1
    assert "no longer exists" in job.error["message"]
