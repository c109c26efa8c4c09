"""Every read of the catalogue that is shown: the API, the admin and the pages go through these."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from django.conf import settings
from django.db.models import QuerySet

from updater.feeds import feed_chunks
from updater.models import Feed, Product


def product_list() -> QuerySet[Product]:
    """All products in sku order (the API filters and paginates it)."""
    return Product.objects.order_by("sku")


def feed_list() -> QuerySet[Feed]:
    """Stored feeds, newest first, with who sent them."""
    return Feed.objects.select_related("uploaded_by")


def feed_get(*, feed_id) -> Feed | None:
    """One stored feed, or None (also for an id that is not an integer)."""
    if isinstance(feed_id, bool) or not isinstance(feed_id, int):
        return None
    return Feed.objects.filter(pk=feed_id).first()


def feed_errors(*, feed: Feed) -> Iterator[tuple[int, str]]:
    """(line, reason) of every invalid row of a stored feed, read again from its file in chunks:
    the import's summary keeps only the first ones. Raises OSError (FileNotFoundError) at the call,
    before the first row, when the file is gone from storage."""
    binary = feed.file.storage.open(feed.file.name, "rb")
    return _errors(binary, feed.format)


def _errors(binary: IO[bytes], format: str) -> Iterator[tuple[int, str]]:
    with binary:
        for chunk in feed_chunks(binary, format=format, size=settings.UPDATER_CHUNK_SIZE):
            yield from chunk.errors


def demo_feed_start(*, rows: int) -> int:
    """Where a demo feed of `rows` rows starts its skus so that half of them are already in a
    catalogue built from earlier demo feeds (SKU-00000000 upwards) and half are new."""
    return max(0, Product.objects.count() - rows // 2)
