"""The benchmark's product handler (loaded through JOBS_HANDLER_MODULES=bench.handlers): the pickup
latency's clock in the handler, stored in the job's result."""

import time

from jobs.context import JobContext
from jobs.registry import handler


@handler("bench.stamp", max_attempts=1, timeout=30)
def stamp(ctx: JobContext) -> dict:
    """Returns the wall-clock time at which the handler started."""
    return {"t": time.time()}
