"""Feed files are deleted once their import ended: after the retention (a day by default; each import's
end and `updater_prune_feeds` prune), or at once without one; the Feed row stays, and a file still
needed by an active import is kept."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import runner, services
from jobs.models import Job
from tests.commands.call import run_command
from tests.updater.helpers import stored_feed, upload
from updater.models import Feed
from updater.services import feed_import_start, feed_import_sync

pytestmark = pytest.mark.django_db
CSV = "sku,price\nA,1.00\n"


def started(django_capture_on_commit_callbacks) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        return feed_import_start(upload=upload(CSV), requested_by=None)


def test_without_retention_a_successful_import_deletes_its_file_and_keeps_the_feed(
    django_capture_on_commit_callbacks, settings
):
    settings.UPDATER_FEED_RETENTION_SECONDS = 0
    job = started(django_capture_on_commit_callbacks)
    feed = Feed.objects.get()
    path = feed.file.path
    runner.run(job.pk)
    feed.refresh_from_db()
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    assert feed.file.name == "" and feed.rows == 1
    assert not os.path.exists(path)


def test_without_retention_the_synchronous_baseline_deletes_its_file_too(settings):
    settings.UPDATER_FEED_RETENTION_SECONDS = 0
    feed_import_sync(requested_by=None, upload=upload(CSV))
    assert Feed.objects.get().file.name == ""


def test_with_a_retention_the_file_stays_until_pruned(settings, django_capture_on_commit_callbacks):
    settings.UPDATER_FEED_RETENTION_SECONDS = 3600
    job = started(django_capture_on_commit_callbacks)
    runner.run(job.pk)
    feed = Feed.objects.get()
    assert feed.file.name
    assert run_command("updater_prune_feeds").out.strip() == "deleted 0 feed files"
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(hours=2))
    Feed.objects.filter(pk=feed.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert run_command("updater_prune_feeds").out.strip() == "deleted 1 feed file"
    assert Feed.objects.get().file.name == ""


def test_pruning_keeps_the_file_of_an_active_import(django_capture_on_commit_callbacks):
    job = started(django_capture_on_commit_callbacks)
    assert run_command("updater_prune_feeds", "--older-than", "0").out.strip() == "deleted 0 feed files"
    services.job_cancel(job=job)
    assert run_command("updater_prune_feeds", "--older-than", "0").out.strip() == "deleted 1 feed file"


def test_a_retry_after_the_file_went_fails_at_once_saying_so(django_capture_on_commit_callbacks):
    feed = stored_feed(CSV)
    feed.file.storage.delete(feed.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_enqueue(handler="updater.import_feed", args={"feed_id": feed.pk})
    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "gone from storage" in job.error["message"]


def test_with_retention_an_import_keeps_its_file_and_prunes_those_past_it(
    django_capture_on_commit_callbacks, settings
):
    settings.UPDATER_FEED_RETENTION_SECONDS = 3600
    old = started(django_capture_on_commit_callbacks)
    runner.run(old.pk)
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(hours=2))
    Feed.objects.update(created_at=timezone.now() - timedelta(hours=3))
    new = started(django_capture_on_commit_callbacks)
    runner.run(new.pk)
    files = dict(Feed.objects.values_list("pk", "file"))
    assert files[old.args["feed_id"]] == ""  # past the retention: pruned as the new import ended
    assert files[new.args["feed_id"]] != ""  # kept for a day, for its invalid rows and retries


def test_the_prune_feeds_handler_deletes_files_past_the_retention(settings, django_capture_on_commit_callbacks):
    settings.UPDATER_FEED_RETENTION_SECONDS = 3600
    feed = stored_feed(CSV)
    Feed.objects.filter(pk=feed.pk).update(created_at=timezone.now() - timedelta(hours=2))
    job = services.job_enqueue(handler="updater.prune_feeds")
    runner.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.result) == (Job.Status.SUCCEEDED, {"deleted": 1})
    assert Feed.objects.get().file.name == ""
