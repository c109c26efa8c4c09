"""Handlers for the real-cluster tests, loaded by the test process and (JOBS_HANDLER_MODULES) by the
clusters it starts."""

import time

from jobs.context import JobContext
from jobs.registry import handler


@handler("tests.limited", concurrency_limit=2, timeout=30, max_attempts=1)
def limited(ctx: JobContext, *, seconds: float = 0.3) -> None:
    """At most two at a time over every cluster: the claim holds the limit."""
    time.sleep(seconds)


@handler("tests.rated", rate_limit=(3, 2.0), timeout=30, max_attempts=1)
def rated(ctx: JobContext) -> None:
    """At most three starts per two seconds over every cluster."""
