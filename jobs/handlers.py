"""Built-in handlers for demonstrations, benchmarks and tests. `jobs.sleep` and `jobs.fail` are staff
only: they hold a worker (or keep retrying) for as long as the caller likes."""

import time

from jobs.context import JobContext
from jobs.exceptions import PermanentJobError
from jobs.registry import STAFF, exponential, handler
from jobs.services import idempotency_prune, job_prune


@handler("jobs.noop", max_attempts=1, timeout=30)  # costs nothing: any signed-in user (benchmarks)
def noop(ctx: JobContext) -> None:
    """Does nothing: measures the job system's own cost."""


@handler("jobs.sleep", timeout=3600, enqueue_permission=STAFF)
def sleep(ctx: JobContext, *, seconds: float = 1.0, steps: int = 10) -> dict:
    """Sleeps `seconds` in `steps`, reporting progress and stopping when cancelled."""
    steps = max(1, int(steps))
    for step in range(steps):
        ctx.raise_if_cancelled()
        time.sleep(float(seconds) / steps)
        ctx.progress(done=step + 1, total=steps)
    return {"slept": seconds}


@handler("jobs.fail", backoff=exponential(base=0.5, factor=2, cap=5), enqueue_permission=STAFF)
def fail(ctx: JobContext, *, message: str = "failed on purpose", succeed_on_attempt: int = 0,
         permanent: bool = False) -> dict:
    """Raises until attempt `succeed_on_attempt` (0: always); `permanent` fails without retries."""
    if succeed_on_attempt and ctx.attempt >= succeed_on_attempt:
        return {"succeeded_on_attempt": ctx.attempt}
    if permanent:
        raise PermanentJobError(message)
    raise RuntimeError(message)


# Upkeep, fired by the built-in schedules; one of each at a time, and nobody but the system and staff.
@handler("jobs.prune", timeout=3600, max_attempts=1, concurrency_limit=1,
         concurrency_key=lambda args: "jobs.prune", enqueue_permission=STAFF)  # fmt: skip
def prune(ctx: JobContext) -> dict:
    """Deletes finished jobs past their retention and their events, in batches; cancellable between them."""

    def between_batches(deleted: int) -> None:
        ctx.advance(deleted)
        ctx.raise_if_cancelled()

    return job_prune(on_batch=between_batches).as_dict()


@handler("jobs.idempotency_prune", timeout=600, max_attempts=1, concurrency_limit=1,
         concurrency_key=lambda args: "jobs.idempotency_prune", enqueue_permission=STAFF)  # fmt: skip
def prune_idempotency(ctx: JobContext) -> dict:
    """Deletes Idempotency-Key records past JOBS_IDEMPOTENCY_SECONDS."""
    return {"deleted": idempotency_prune()}
