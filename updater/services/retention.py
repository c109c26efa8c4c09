"""Feed files are deleted once their import ended: at once when UPDATER_FEED_RETENTION_SECONDS is 0
(the handler, on success, and the synchronous baseline), else by `feed_files_prune` once the
retention has passed (a day by default: time to download a feed's invalid rows or retry it). Every
import's end prunes, and so does `manage.py updater_prune_feeds` from cron. The Feed row stays, as the record of what
was sent; a retry of an import whose file is gone fails at once, saying so."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from jobs.models import Job
from updater.models import Feed

logger = logging.getLogger(__name__)
HANDLER = "updater.import_feed"


def feed_file_delete(*, feed: Feed) -> None:
    """Delete the feed's file from storage and forget its name (idempotent)."""
    if feed.file.name:
        feed.file.storage.delete(feed.file.name)
        Feed.objects.filter(pk=feed.pk).update(file="")
        logger.info("feed file deleted", extra={"action": "feed.file_deleted", "feed_id": feed.pk})


def feed_file_delete_if_due(*, feed: Feed) -> None:
    """At the end of an import: delete its file now when no retention is configured, else the files
    of imports that ended longer than the retention ago."""
    if settings.UPDATER_FEED_RETENTION_SECONDS == 0:
        feed_file_delete(feed=feed)
    else:
        feed_files_prune()


def feed_files_prune(*, older_than: float | None = None, now: datetime | None = None) -> int:
    """Delete the files of feeds whose imports all ended more than `older_than` seconds ago
    (default settings.UPDATER_FEED_RETENTION_SECONDS); a feed with a queued or running import is
    kept. Returns how many files were deleted."""
    keep = settings.UPDATER_FEED_RETENTION_SECONDS if older_than is None else older_than
    cutoff = (now or timezone.now()) - timedelta(seconds=keep)
    deleted = 0
    for feed in Feed.objects.exclude(file="").filter(created_at__lt=cutoff).order_by("pk").iterator(chunk_size=500):
        jobs = list(Job.objects.filter(handler=HANDLER, args__feed_id=feed.pk).values_list("status", "finished_at"))
        if any(status in Job.ACTIVE for status, _ in jobs):
            continue
        ended = max((finished for _, finished in jobs if finished), default=feed.created_at)
        if ended < cutoff:
            feed_file_delete(feed=feed)
            deleted += 1
    return deleted
