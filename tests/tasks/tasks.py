"""Tasks defined with the standard API (`django_tasks.task`) for the backend's tests. A worker finds
them by import path when JOBS_HANDLER_MODULES lists `tests.tasks`."""

from django_tasks import task

from jobs.tasks_backend import job_options


@task
def add(a: int, b: int) -> int:
    """Adds two numbers."""
    return a + b


@task(takes_context=True)
@job_options(max_attempts=2, backoff={"base": 0, "jitter": 0})
def flaky(context, *, succeed_on_attempt: int) -> dict:
    """Fails until attempt `succeed_on_attempt`."""
    if context.attempt < succeed_on_attempt:
        raise RuntimeError(f"attempt {context.attempt} failed on purpose")
    return {"attempt": context.attempt}


@task
@job_options(max_attempts=1, timeout=5)
def always_fails(message: str) -> None:
    """Raises ValueError(message)."""
    raise ValueError(message)


@task(takes_context=True)
def report(context, rows: list[str]) -> dict:
    """Reports progress per row, stopping at a cancel."""
    for done, _row in enumerate(rows, start=1):
        context.job.raise_if_cancelled()
        context.job.progress(done=done, total=len(rows))
    return {"rows": len(rows), "result_id": context.task_result.id, "status": context.task_result.status}


@task
def returns_an_object() -> object:
    """Returns what JSON cannot hold."""
    return object()


@task
async def double(x: int) -> int:
    """An async task."""
    return 2 * x


class ReportFailed(Exception):
    pass


@task
@job_options(max_attempts=1)
def fails_with_its_own_error(message: str) -> None:
    """Raises ReportFailed(message)."""
    raise ReportFailed(message)
