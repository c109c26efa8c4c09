"""A handler for the browser tests, loaded by the test process and (through JOBS_HANDLER_MODULES) by
the qcluster it starts: it fails while a file exists, as a job fails until its cause is fixed."""

from pathlib import Path

from jobs.context import JobContext
from jobs.registry import handler


@handler("tests.fails_while_file_exists", max_attempts=1, timeout=30)
def fails_while_file_exists(ctx: JobContext, *, path: str) -> dict:
    """Raises while `path` exists; succeeds once it is gone."""
    if Path(path).exists():
        raise RuntimeError(f"{path} is still there")
    return {"fixed": True}
