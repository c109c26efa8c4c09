"""Handler middleware: JOBS_MIDDLEWARE lists dotted paths of factories, as Django's MIDDLEWARE does.
Each factory takes the next callable and returns one that takes the JobContext:

    def tenant_database(call_next):
        def call(ctx):
            with use_tenant(ctx.job.args.get("tenant")):
                return call_next(ctx)
        return call

The first entry is the outermost. A middleware may act before and after the handler, see (and
re-raise) its exception, or return without calling on (the attempt then succeeds with that result).
The chain is built once per process for a given JOBS_MIDDLEWARE.

JOBS_ENQUEUE_MIDDLEWARE works the same way around `job_enqueue`'s insert: `call(job)` gets the Job,
validated and not yet saved (`job.pk` is set once `call_next(job)` returned); raising refuses the
enqueue, and the caller's transaction decides the rest."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

from config.logging import current_job
from jobs.registry import get_handler

if TYPE_CHECKING:  # the context imports the services, which call `enqueue_through` below
    from jobs.context import JobContext
    from jobs.models import Job

Call = Callable[["JobContext"], Any]


def run_handler(ctx: JobContext) -> Any:
    """Run the job's handler through every JOBS_MIDDLEWARE entry."""
    return _chain(tuple(settings.JOBS_MIDDLEWARE))(ctx)


def _call_handler(ctx: JobContext) -> Any:
    return get_handler(ctx.job.handler).func(ctx, **ctx.job.args)


@lru_cache(maxsize=8)
def _chain(paths: tuple[str, ...]) -> Call:
    call: Call = _call_handler
    for path in reversed(paths):
        call = import_string(path)(call)
    return call


def log_context(call_next: Call) -> Call:
    """Every line logged while the handler runs (its own, and the services' it calls) carries the
    job's id, handler and trace id (see config/logging.py)."""

    def call(ctx: JobContext) -> Any:
        job = ctx.job
        token = current_job.set({"job_id": job.pk, "handler": job.handler, "trace_id": job.trace_id})
        try:
            return call_next(ctx)
        finally:
            current_job.reset(token)

    return call


def enqueue_through(job: Job, insert: Callable[[Job], None]) -> None:
    """Insert `job` through every JOBS_ENQUEUE_MIDDLEWARE entry (imported once per process)."""
    call = insert
    for factory in reversed(_factories(tuple(settings.JOBS_ENQUEUE_MIDDLEWARE))):
        call = factory(call)
    call(job)


@lru_cache(maxsize=8)
def _factories(paths: tuple[str, ...]) -> list[Callable]:
    return [import_string(path) for path in paths]
