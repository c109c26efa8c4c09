"""Applying a feed's chunks on a second thread while the next chunks are read.

Reading and validating a chunk is Python work; applying it is database work. Done one after the
other, each waits for the other. Here the database applies chunk n (on a thread of its own, with
its own connection, that spends its time waiting on the server) while the caller reads the next
ones, so an import runs at the speed of the slower of the two instead of their sum. A few chunks
at most are in flight, so memory stays bounded, and they land in order, each in its own
transaction."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection

from updater.blocks import ProductBlock
from updater.services.products import UpsertCounts, product_upsert_blocks

IN_FLIGHT = 2  # queued for the writer: it starts the next chunk the moment one lands


class ChunkWriter:
    """Applies chunks with product_upsert_blocks, in order, at most IN_FLIGHT at a time.

    It writes on its own thread only when the caller holds no transaction: writes made inside a
    caller's transaction (a test's, or ATOMIC_REQUESTS) must stay in it, so they are made inline."""

    def __init__(self) -> None:
        self._pool = None if connection.in_atomic_block else ThreadPoolExecutor(1, "updater-writer")
        self._in_flight: deque[tuple[Future, Any]] = deque()

    def submit(self, blocks: list[ProductBlock], tag: Any) -> list[tuple[UpsertCounts, Any]]:
        """Start writing a chunk's blocks; returns (counts, tag) of each chunk that landed meanwhile.
        Raises what writing an earlier chunk raised."""
        if self._pool is None:
            return [(product_upsert_blocks(blocks=blocks), tag)]
        landed = self._land(keep=IN_FLIGHT - 1)
        self._in_flight.append((self._pool.submit(product_upsert_blocks, blocks=blocks), tag))
        return landed

    def wait(self) -> list[tuple[UpsertCounts, Any]]:
        """Let every chunk in flight land: [(counts, tag), ...] in order."""
        return self._land(keep=0)

    def _land(self, *, keep: int) -> list[tuple[UpsertCounts, Any]]:
        landed = []
        while len(self._in_flight) > keep:
            future, tag = self._in_flight.popleft()
            landed.append((future.result(), tag))
        return landed

    def close(self) -> None:
        """Let any chunk in flight finish (its outcome is not reported) and free the thread and its
        database connection. Safe to call while an exception is on its way out."""
        if self._pool is None:
            return
        self._pool.submit(connection.close)  # runs on the writer's thread: closes its own connection
        self._pool.shutdown(wait=True)
        self._pool = None
        self._in_flight.clear()
