"""Handlers for the real-cluster tests, loaded by the test process and (JOBS_HANDLER_MODULES) by the
clusters it starts."""

import os
import time
from pathlib import Path

from jobs.context import JobContext
from jobs.registry import handler


@handler("tests.limited", concurrency_limit=2, timeout=30, max_attempts=1)
def limited(ctx: JobContext, *, seconds: float = 0.3) -> None:
    """At most two at a time over every cluster: the claim holds the limit."""
    time.sleep(seconds)


@handler("tests.rated", rate_limit=(3, 2.0), timeout=30, max_attempts=1)
def rated(ctx: JobContext) -> None:
    """At most three starts per two seconds over every cluster."""


@handler("tests.wait_for_file", timeout=60, max_attempts=3)
def wait_for_file(ctx: JobContext, *, path: str) -> dict:
    """Waits, without touching the database, until `path` exists; then leaves `path.seen` behind."""
    while not os.path.exists(path):
        time.sleep(0.05)
    Path(f"{path}.seen").touch()
    return {"seen": path}
