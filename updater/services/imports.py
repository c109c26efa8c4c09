"""Importing a feed: as a background job (the product), or inside the request (the old baseline).

The import reads the stored feed as a stream and applies it in chunks: each chunk's valid rows
go to the catalogue in one short transaction (`product_upsert_blocks`), written while the next
chunk is read (`ChunkWriter`). Between chunks it reports progress, stops if a cancel was
requested, and waits if a throttle asks for it; a chunk is never half applied. Applying the same
feed again changes nothing, so a retry simply starts over."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.files.base import File
from django.db import transaction

from jobs.context import JobContext
from jobs.exceptions import InvalidJob
from jobs.models import Job
from jobs.services import job_enqueue
from updater.blocks import ProductBlock
from updater.feeds import FeedChunk, feed_chunks, feed_measure
from updater.models import Feed
from updater.permissions import feed_check_import
from updater.services.pipeline import ChunkWriter
from updater.services.products import UpsertCounts
from updater.services.retention import feed_file_delete_if_due
from updater.services.uploads import feed_rows_store, feed_store

HANDLER = "updater.import_feed"
IMPORT_TIMEOUT = 3600  # seconds: a throttled import of a large feed may take long (the handler's timeout)
MAX_CHUNK_SIZE = 50_000
MAX_PAUSE_SECONDS = 3600.0
MAX_REPORTED_ERRORS = 100
_OPTION_RANGES = {  # name: (type, lowest, highest)
    "chunk_size": (int, 1, MAX_CHUNK_SIZE),
    "max_rows_per_second": (int, 0, 10_000_000),
    "pause_seconds": (float, 0.0, MAX_PAUSE_SECONDS),
}


def import_options_clean(**options) -> dict:
    """The run options that were given (None is left out), checked against their ranges.
    Raises InvalidJob with a message per bad option."""
    clean, errors = {}, {}
    for name, value in options.items():
        kind, low, high = _OPTION_RANGES[name]
        if value is None:
            continue
        valid_type = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not valid_type or (kind is int and not isinstance(value, int)) or not low <= value <= high:
            errors[name] = [f"Must be {'an integer' if kind is int else 'a number'} from {low} to {high}."]
        else:
            clean[name] = kind(value)
    if errors:
        raise InvalidJob(errors)
    return clean


def feed_import_start(
    *, upload: File, requested_by, chunk_size=None, max_rows_per_second=None, pause_seconds=None, trace_id=None
) -> Job:
    """Check and store an uploaded feed, then enqueue its import job (HANDLER).
    Raises PermissionDenied, InvalidJob (field messages) or FeedTooLarge before any feed or job is made."""
    feed_check_import(user=requested_by)
    options = import_options_clean(
        chunk_size=chunk_size, max_rows_per_second=max_rows_per_second, pause_seconds=pause_seconds
    )
    return _enqueue(lambda: feed_store(upload=upload, uploaded_by=requested_by), options, requested_by, trace_id)


def feed_rows_import_start(
    *, rows: list, requested_by, chunk_size=None, max_rows_per_second=None, pause_seconds=None, trace_id=None
) -> Job:
    """As feed_import_start, for a list of row objects (a JSON body), kept as a JSON Lines feed."""
    feed_check_import(user=requested_by)
    options = import_options_clean(
        chunk_size=chunk_size, max_rows_per_second=max_rows_per_second, pause_seconds=pause_seconds
    )
    return _enqueue(lambda: feed_rows_store(rows=rows, uploaded_by=requested_by), options, requested_by, trace_id)


def _enqueue(store, options: dict, requested_by, trace_id: str | None) -> Job:
    feed = None
    try:
        with transaction.atomic():
            feed = store()
            return job_enqueue(
                handler=HANDLER,
                args={"feed_id": feed.pk, **options},
                requested_by=requested_by,
                trace_id=trace_id,
            )
    except Exception:
        if feed is not None:
            feed.file.delete(save=False)  # the row was rolled back; the file must go too
        raise


def feed_import_sync(*, requested_by, upload: File | None = None, rows: list | None = None, chunk_size=None) -> dict:
    """THE OLD WAY, kept as a baseline: store and import a feed inside the caller (the HTTP request),
    returning the summary. Same checks and errors as feed_import_start; no progress, no cancel.
    Only staff who may import feeds may run it (updater.permissions)."""
    feed_check_import(user=requested_by, sync=True)
    options = import_options_clean(chunk_size=chunk_size)
    if upload is not None:
        feed = feed_store(upload=upload, uploaded_by=requested_by)
    else:
        feed = feed_rows_store(rows=rows, uploaded_by=requested_by)
    try:
        return feed_import_run(feed=feed, **options)
    finally:
        feed_file_delete_if_due(feed=feed)


def feed_import_run(
    *,
    feed: Feed,
    ctx: JobContext | None = None,
    chunk_size: int | None = None,
    max_rows_per_second: int | None = None,
    pause_seconds: float | None = None,
) -> dict:
    """Apply a stored feed to the catalogue and return its summary (created, updated, unchanged,
    invalid with the first MAX_REPORTED_ERRORS reasons, duration). With `ctx`: progress after each
    chunk lands, and JobCancelled raised between chunks once a cancel was requested."""
    size = chunk_size or settings.UPDATER_CHUNK_SIZE
    rate = settings.UPDATER_MAX_ROWS_PER_SECOND if max_rows_per_second is None else max_rows_per_second
    throttle = _Throttle(rate=rate, pause=pause_seconds or 0.0, ctx=ctx)
    with feed.file.storage.open(feed.file.name, "rb") as binary:
        shape = feed_measure(binary)
    total = max(0, shape.lines - (feed.format == Feed.Format.CSV))
    tally = _Tally(feed=feed, total=total, ctx=ctx)
    if ctx is not None:  # the total from the start: a throttled first chunk may take a while
        ctx.progress(done=0, total=total, message=f"starting: about {total:,} rows")
    writer = ChunkWriter()
    try:
        with feed.file.storage.open(feed.file.name, "rb") as binary:
            for chunk in feed_chunks(binary, format=feed.format, size=size, longest_line=shape.longest_line):
                if tally.read:
                    throttle.wait(rows_done=tally.read)
                if ctx is not None and ctx.cancel_requested:
                    tally.land(writer.wait())
                    _stop(ctx, tally)
                blocks, tag = tally.check(chunk)
                tally.land(writer.submit(blocks, tag=tag))
        tally.land(writer.wait())
    finally:
        writer.close()
    Feed.objects.filter(pk=feed.pk).update(rows=tally.rows)
    return tally.summary(waited=throttle.waited)


def _stop(ctx: JobContext, tally: _Tally) -> None:
    line = f"cancelled after {tally.rows:,} of about {tally.total:,} rows: {tally.line()}"
    ctx.progress(done=tally.rows, total=tally.total, message=line)
    ctx.log(line)
    ctx.raise_if_cancelled()


class _Tally:
    """What the import did so far: rows read and checked, and what the chunks that landed did."""

    def __init__(self, *, feed: Feed, total: int, ctx: JobContext | None):
        self.feed, self.total, self.ctx = feed, total, ctx
        self.read = self.rows = self.invalid = self.chunks = 0
        self.counts = UpsertCounts()
        self.errors: list[dict] = []
        self.started = time.monotonic()

    def check(self, chunk: FeedChunk) -> tuple[list[ProductBlock], tuple[int, int, int]]:
        """The blocks to write of a chunk, and what to count once they land (records, invalid,
        duplicates). The reasons of the first invalid rows are kept."""
        room = MAX_REPORTED_ERRORS - len(self.errors)
        self.errors.extend({"line": line, "reason": reason} for line, reason in chunk.errors[:room])
        self.read += chunk.records
        return chunk.blocks, (chunk.records, len(chunk.errors), chunk.duplicates)

    def land(self, landed: list[tuple[UpsertCounts, tuple[int, int, int]]]) -> None:
        """Count chunks that were applied, and report the progress."""
        for counts, (records, invalid, duplicates) in landed:
            self.counts.add(counts)
            self.counts.duplicates += duplicates
            self.rows += records
            self.invalid += invalid
            self.chunks += 1
            if self.ctx is not None:
                self.ctx.progress(done=self.rows, total=max(self.total, self.read), message=self.line())

    def line(self) -> str:
        c = self.counts
        return f"{c.created:,} created, {c.updated:,} updated, {c.unchanged:,} unchanged, {self.invalid:,} invalid"

    def summary(self, *, waited: float) -> dict:
        duration = time.monotonic() - self.started
        if self.ctx is not None:
            self.ctx.progress(done=self.rows, total=self.rows, message=self.line())
        return {
            "feed_id": self.feed.pk,
            "format": self.feed.format,
            "rows": self.rows,
            "created": self.counts.created,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "duplicates": self.counts.duplicates,
            "invalid": self.invalid,
            "errors": self.errors,
            "errors_omitted": self.invalid - len(self.errors),
            "chunks": self.chunks,
            "duration_seconds": round(duration, 3),
            "throttled_seconds": round(waited, 3),
            "rows_per_second": round(self.rows / duration, 1) if duration > 0 else None,
        }


class _Throttle:
    """Waits between chunks: `pause` seconds, or longer if needed to stay under `rate` rows/s.
    The wait is cut short when a cancel is requested."""

    def __init__(self, *, rate: int, pause: float, ctx: JobContext | None):
        self.rate, self.pause, self.ctx = rate, pause, ctx
        self.started = time.monotonic()
        self.waited = 0.0

    def wait(self, *, rows_done: int) -> None:
        delay = self.pause
        if self.rate:
            delay = max(delay, rows_done / self.rate - (time.monotonic() - self.started))
        began = time.monotonic()
        while (left := began + delay - time.monotonic()) > 0:
            if self.ctx is not None and self.ctx.cancel_requested:
                break
            time.sleep(min(left, 0.25))
        self.waited += time.monotonic() - began
