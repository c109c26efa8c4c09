"""Every write of the updater. Views, the handler, commands and the admin call these."""

from updater.services.imports import (
    HANDLER,
    feed_import_run,
    feed_import_start,
    feed_import_sync,
    feed_rows_import_start,
    import_options_clean,
)
from updater.services.products import UpsertCounts, product_upsert_blocks, product_upsert_chunk
from updater.services.uploads import feed_check_request_size, feed_check_size, feed_rows_store, feed_store

__all__ = [
    "HANDLER",
    "UpsertCounts",
    "feed_check_request_size",
    "feed_check_size",
    "feed_import_run",
    "feed_import_start",
    "feed_import_sync",
    "feed_rows_import_start",
    "feed_rows_store",
    "feed_store",
    "import_options_clean",
    "product_upsert_blocks",
    "product_upsert_chunk",
]
