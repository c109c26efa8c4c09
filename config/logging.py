"""Log lines that name their job: `JobContextFilter` gives every record the job fields (from the
record's `extra`, else from the job the current thread is running), and `PlainFormatter` appends the
ones present as `key=value`:

    2026-12-02 20:41:07,123 WARNING jobs.runner job attempt 1 of 3 failed, retry scheduled: RuntimeError: boom
        [action=job.retry job_id=42 handler=updater.import_feed status=queued trace_id=4bf9...]

(one line; wrapped here). A line with no job field is printed as before. `LOG_FORMAT=json` chooses
`JsonFormatter`: one JSON object per line, with the same fields as keys."""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import datetime, timezone

FIELDS = ("action", "job_id", "handler", "status", "count", "trace_id")

# The job a worker runs now (set by the `jobs.middleware.log_context` handler middleware), so that a
# handler's own log lines, and the services' it calls, carry its id without passing `extra`.
current_job: contextvars.ContextVar[dict | None] = contextvars.ContextVar("current_job", default=None)


class JobContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        job = current_job.get()
        if job:
            for name, value in job.items():
                if not hasattr(record, name):
                    setattr(record, name, value)
        return True


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(f"{name}={getattr(record, name)}" for name in FIELDS if getattr(record, name, None) is not None)
        if not fields:
            return line
        first, newline, rest = line.partition("\n")  # after the message, before any traceback
        return f"{first} [{fields}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """LOG_FORMAT=json: one object per line, {"time", "level", "logger", "message", the job fields
    present, "exception" (the traceback) when there is one}."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in FIELDS if getattr(record, name, None) is not None})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
