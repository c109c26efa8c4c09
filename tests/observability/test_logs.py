import logging

import pytest
from django.utils import timezone

from config.logging import JobContextFilter, PlainFormatter
from jobs import services
from jobs.models import Job
from jobs.runner import run

FORMAT = "%(levelname)s %(name)s %(message)s"


@pytest.fixture
def job_lines(caplog):
    """The runner's log lines as the production handler formats them."""
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(JobContextFilter())
    formatter = PlainFormatter(FORMAT)

    def lines(logger: str | None = None) -> list[tuple[int, str]]:
        return [(r.levelno, formatter.format(r)) for r in caplog.records if logger is None or r.name == logger]

    yield lines
    caplog.handler.filters.clear()


def test_a_success_logs_at_info_with_the_job_fields(db, job_lines):
    job = services.job_enqueue(handler="jobs.noop", trace_id="ab" * 16)
    run(job.pk)
    lines = dict((line.split(" ", 2)[2].split(" [")[0], (level, line)) for level, line in job_lines("jobs.runner"))
    level, line = lines["job succeeded"]
    assert level == logging.INFO
    assert f"[action=job.succeeded job_id={job.pk} handler=jobs.noop status=succeeded trace_id={'ab' * 16}]" in line
    assert f"[action=job.started job_id={job.pk} handler=jobs.noop trace_id={'ab' * 16}]" in lines["job started"][1]


def test_a_failed_attempt_warns_and_the_last_one_is_an_error(db, job_lines):
    job = services.job_enqueue(handler="jobs.fail", args={"message": "boom"}, max_attempts=2)
    run(job.pk)
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    run(job.pk)
    outcomes = [(level, line) for level, line in job_lines("jobs.runner") if "job.started" not in line]
    assert outcomes[0][0] == logging.WARNING
    assert "job attempt 1 of 2 failed, retry scheduled: RuntimeError: boom [action=job.retry" in outcomes[0][1]
    assert outcomes[1][0] == logging.ERROR
    assert "job failed after attempt 2 of 2: RuntimeError: boom [action=job.failed" in outcomes[1][1]
    assert f"job_id={job.pk}" in outcomes[1][1]


def test_a_handlers_own_lines_carry_its_job(db, job_lines, handler_registry):
    @handler_registry.handler("tests.chatty", max_attempts=1)
    def chatty(ctx):
        logging.getLogger("tests.chatty").info("halfway")

    job = services.job_enqueue(handler="tests.chatty")
    run(job.pk)
    [(level, line)] = job_lines("tests.chatty")
    assert line.endswith(f"halfway [job_id={job.pk} handler=tests.chatty trace_id={job.trace_id}]")


def test_lines_without_job_fields_are_unchanged():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("line",), None)
    assert PlainFormatter(FORMAT).format(record) == "INFO x plain line"


def test_the_fields_come_before_a_traceback():
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "oops", (), sys.exc_info())
    record.job_id = 7
    first, *rest = PlainFormatter(FORMAT).format(record).splitlines()
    assert first == "ERROR x oops [job_id=7]"
    assert rest[-1] == "ValueError: bad"


def test_json_lines_carry_the_same_fields(db, caplog):
    import json

    from config.logging import JsonFormatter

    caplog.set_level(logging.INFO)
    job = services.job_enqueue(handler="jobs.fail", args={"message": "boom", "permanent": True})
    run(job.pk)
    [record] = [r for r in caplog.records if getattr(r, "action", None) == "job.failed"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR" and entry["logger"] == "jobs.runner"
    assert entry["message"] == "job failed after attempt 1 of 3: PermanentJobError: boom"
    assert {k: entry[k] for k in ("action", "job_id", "handler", "status", "trace_id")} == {
        "action": "job.failed", "job_id": job.pk, "handler": "jobs.fail", "status": "failed", "trace_id": job.trace_id,
    }  # fmt: skip


def test_log_format_is_checked_at_start():
    import os
    import subprocess
    import sys

    env = {**os.environ, "LOG_FORMAT": "xml"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "LOG_FORMAT must be plain or json" in done.stderr
