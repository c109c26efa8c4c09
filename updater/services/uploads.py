"""Accepting a feed: check it before anything is kept, then store it in Django's file storage.

Nothing here reads a whole upload: the size comes from the upload's metadata and the format from
its first 64 KB; storing streams it (a large upload, already spooled to a temporary file by Django,
is moved into place)."""

from __future__ import annotations

import json
import os
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile, File

from jobs.exceptions import InvalidJob
from updater.exceptions import FeedTooLarge
from updater.feeds import SAMPLE_BYTES, FeedFormatError, feed_sniff
from updater.models import Feed
from updater.rows import COLUMNS

MAX_BODY_ROWS = 10_000
MULTIPART_SLACK = 64 * 1024


def feed_check_size(*, size: int | None) -> None:
    """Raise FeedTooLarge when `size` bytes exceed settings.UPDATER_MAX_FEED_BYTES."""
    limit = settings.UPDATER_MAX_FEED_BYTES
    if size is not None and size > limit:
        raise FeedTooLarge(f"The feed is {size:,} bytes; the limit is {limit:,} bytes.")


def feed_check_request_size(*, content_length: str | int | None) -> None:
    """Raise FeedTooLarge when a request body is too large to hold a feed within the limit (with
    MULTIPART_SLACK bytes for the form's framing), before any of it is read."""
    try:
        length = int(content_length or 0)
    except (TypeError, ValueError):
        return  # no usable length: the upload's own size is checked once it is spooled
    feed_check_size(size=length - MULTIPART_SLACK if length > MULTIPART_SLACK else 0)


def feed_store(*, upload: File, uploaded_by=None) -> Feed:
    """Validate an uploaded feed (size, format, header) and keep it as a Feed.

    Raises FeedTooLarge, or InvalidJob({"file": [...]}) for an empty file, a file that is not CSV
    or JSON Lines, unknown or duplicate columns, or a missing sku column."""
    feed_check_size(size=upload.size)
    upload.seek(0)
    sample = upload.read(SAMPLE_BYTES)
    upload.seek(0)
    try:
        header = feed_sniff(sample, complete=len(sample) < SAMPLE_BYTES)
    except FeedFormatError as exc:
        raise InvalidJob({"file": [str(exc)]}) from None
    return _save(upload, header.format, header.columns, uploaded_by)


def feed_rows_store(*, rows: list, uploaded_by=None) -> Feed:
    """Keep a list of row objects (a JSON body) as a JSON Lines Feed. Each row is checked in full
    later, by the import; here only the shape: InvalidJob({"rows": [...]}) for an empty list, an
    item that is not an object, unknown columns, or no sku at all."""
    if not isinstance(rows, list) or not rows:
        raise InvalidJob({"rows": ["Give a non-empty list of row objects."]})
    if len(rows) > MAX_BODY_ROWS:
        raise InvalidJob({"rows": [f"At most {MAX_BODY_ROWS} rows in a JSON body; upload a file for more."]})
    columns: dict[str, None] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidJob({"rows": [f"Item {index} is not an object."]})
        if (problem := _text_problem(row)) is not None:
            raise InvalidJob({"rows": [f"Item {index}: {problem}"]})
        columns.update(dict.fromkeys(row))
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        raise InvalidJob({"rows": [f"Unknown column(s): {', '.join(unknown)}. Columns are: {', '.join(COLUMNS)}."]})
    if "sku" not in columns:
        raise InvalidJob({"rows": ["The sku column is missing."]})
    lines = "".join(json.dumps(row, default=_decimal, ensure_ascii=False) + "\n" for row in rows)
    content = ContentFile(lines.encode(), name="rows.jsonl")
    feed_check_size(size=content.size)
    return _save(content, Feed.Format.JSONL, list(columns), uploaded_by)


def _text_problem(row: dict) -> str | None:
    """NUL characters and lone surrogates fit no column (PostgreSQL refuses NUL in text, and no
    encoder writes a lone surrogate): refused here, with the row's index, rather than mid-import."""
    for key, value in row.items():
        for text in (key, value):
            if isinstance(text, str) and ("\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)):
                return f"{key!r} holds a NUL or lone surrogate character."
    return None


def _decimal(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _save(content: File, format: str, columns: list[str], uploaded_by) -> Feed:
    name = os.path.basename(content.name or "feed")[:200] or "feed"
    feed = Feed(
        original_name=name,
        format=format,
        size=content.size,
        columns=columns,
        uploaded_by=uploaded_by if uploaded_by is not None and uploaded_by.is_authenticated else None,
    )
    feed.file.save(name, content, save=False)
    try:
        feed.save(force_insert=True)
    except Exception:
        feed.file.delete(save=False)
        raise
    return feed
