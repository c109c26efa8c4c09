"""Tasks for bare django-q2 (`async_task("bench.tasks.noop")`): the same no-op the product runs,
without the product's job record."""

import time

from bench import probe


def noop() -> None:
    """Does nothing, like the product's `jobs.noop` handler."""


def stamp(key: str) -> None:
    """Records when a worker started it, for the pickup latency (enqueue time is the caller's)."""
    probe.stamp(key, time.time())
