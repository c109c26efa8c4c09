"""The updater's job handler: a feed import, one per catalogue at a time."""

from __future__ import annotations

from jobs.context import JobContext
from jobs.exceptions import InvalidJob, PermanentJobError
from jobs.registry import STAFF, exponential, handler
from updater.models import Feed
from updater.permissions import feed_may_import
from updater.services.retention import feed_file_delete_if_due, feed_files_prune
from updater.services import HANDLER, feed_import_run, import_options_clean
from updater.services.imports import IMPORT_TIMEOUT

PRUNE_FEEDS = "updater.prune_feeds"
CATALOGUE = "catalogue"  # the one catalogue there is; the key that keeps its imports one at a time


def import_feed_args(args: dict) -> dict:
    """Checks the job's arguments at enqueue: an existing feed and valid run options."""
    args = dict(args)
    feed_id = args.pop("feed_id", None)
    if isinstance(feed_id, bool) or not isinstance(feed_id, int) or not Feed.objects.filter(pk=feed_id).exists():
        raise InvalidJob({"args": [f"feed_id: no feed {feed_id!r}."]})
    unknown = sorted(set(args) - {"chunk_size", "max_rows_per_second", "pause_seconds"})
    if unknown:
        raise InvalidJob({"args": [f"Unknown argument(s): {', '.join(unknown)}."]})
    return {"feed_id": feed_id, **import_options_clean(**args)}


@handler(
    HANDLER,
    max_attempts=3,
    timeout=IMPORT_TIMEOUT,
    backoff=exponential(base=30),
    validate=import_feed_args,
    concurrency_limit=1,
    concurrency_key=lambda args: CATALOGUE,
    enqueue_permission=feed_may_import,
)
def import_feed(
    ctx: JobContext,
    *,
    feed_id: int,
    chunk_size: int | None = None,
    max_rows_per_second: int | None = None,
    pause_seconds: float | None = None,
) -> dict:
    """Imports a stored feed into the catalogue in chunks; cancellable and throttled between chunks."""
    feed = Feed.objects.filter(pk=feed_id).first()
    if feed is None:
        raise PermanentJobError(f"Feed {feed_id} no longer exists.")
    try:
        summary = feed_import_run(
            feed=feed,
            ctx=ctx,
            chunk_size=chunk_size,
            max_rows_per_second=max_rows_per_second,
            pause_seconds=pause_seconds,
        )
    except FileNotFoundError:
        raise PermanentJobError(f"The file of feed {feed_id} is gone from storage.") from None
    feed_file_delete_if_due(feed=feed)  # a failed or cancelled import keeps it for a retry
    return summary


@handler(PRUNE_FEEDS, timeout=600, max_attempts=1, concurrency_limit=1,
         concurrency_key=lambda args: PRUNE_FEEDS, enqueue_permission=STAFF)  # fmt: skip
def prune_feeds(ctx: JobContext) -> dict:
    """Deletes the files of feeds whose imports ended more than UPDATER_FEED_RETENTION_SECONDS ago."""
    return {"deleted": feed_files_prune()}
