"""What every `jobs_*` (and `updater_*`) command shares: argument types, exit codes, the one-line
error convention (one JSON shape with `--json`), quiet logs, table and JSON output. The progress
bar of `--wait` is in `jobs.management.progress`.

Exit codes (documented in docs/OPERATIONS.md; scripts may rely on them):
0 success; 1 the awaited job failed; 2 the awaited job was cancelled; 3 an id names no job;
4 a job's state forbids the action, or its unique key is taken; 5 the input was refused (unknown
handler, invalid arguments or run options); 6 the server could not be used (simulate);
64 malformed command-line arguments; 130 interrupted while waiting.

A partial success (some ids done, others refused) is a summary line and its exit code, not an error.
With `--json` an error is printed on stdout as `{"error": {"code": "not_found", "message": "...",
"fields": {...}}}` (`code` names the exit code; `fields` has the messages per field, or is empty).
Log lines reach stderr at WARNING and above, all of them from `-v 2`."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from jobs.exceptions import (
    DuplicateJob,
    InvalidJob,
    InvalidSchedule,
    JobNotFound,
    JobStateConflict,
    ScheduleNotFound,
    ScheduleStateConflict,
    UnknownHandler,
)
from jobs.formatting import duration
from jobs.management.progress import progress_text  # noqa: F401  (the commands' tables use it as cli.progress_text)
from jobs.models import Job

OK, FAILED, CANCELLED, NOT_FOUND, CONFLICT, INVALID, UNAVAILABLE = 0, 1, 2, 3, 4, 5, 6
USAGE = 64  # not argparse's 2, which here means "cancelled"
INTERRUPTED = 130
CODE_NAMES = {FAILED: "failed", CANCELLED: "cancelled", NOT_FOUND: "not_found", CONFLICT: "conflict",
              INVALID: "invalid", UNAVAILABLE: "unavailable", USAGE: "usage", INTERRUPTED: "interrupted"}  # fmt: skip


class Failure(CommandError):
    """A CommandError that may carry the messages per field (shown in the JSON error body)."""

    def __init__(self, message: str, *, returncode: int, fields: dict | None = None):
        super().__init__(message, returncode=returncode)
        self.fields = fields or {}


def error_body(exc: CommandError) -> dict:
    """The one shape of an error with --json."""
    fields = {name: [str(m) for m in messages] for name, messages in getattr(exc, "fields", {}).items()}
    return {"error": {"code": CODE_NAMES.get(exc.returncode, "error"), "message": str(exc), "fields": fields}}


@contextmanager
def log_level(verbosity: int) -> Iterator[None]:
    """The root logger at WARNING while the command runs (INFO from -v 2, DEBUG from -v 3): a command's
    output is its own lines, not the services' INFO logs."""
    root = logging.getLogger()
    before = root.level
    root.setLevel({0: max(before, logging.WARNING), 1: max(before, logging.WARNING), 2: min(before, logging.INFO)}
                  .get(verbosity, logging.DEBUG))  # fmt: skip
    try:
        yield
    finally:
        root.setLevel(before)


class JobsCommand(BaseCommand):
    """A command whose argument errors are one line with exit code USAGE, never a usage dump or a
    traceback, and which takes `--json`. `self.exit_code` is the exit status of an outcome that is not
    an error (a partial success, an awaited job that failed); the shell sees it, and so do tests."""

    exit_code = OK

    def run_from_argv(self, argv: list[str]) -> None:
        self._json_argv = "--json" in argv
        super().run_from_argv(argv)
        if self.exit_code:
            sys.exit(self.exit_code)

    def execute(self, *args, **options):
        self.exit_code = OK
        with log_level(options.get("verbosity", 1)):
            try:
                return super().execute(*args, **options)
            except CommandError as exc:
                if not options.get("json"):
                    raise
                self.write_json(error_body(exc))
                self.exit_code = exc.returncode

    def create_parser(self, prog_name: str, subcommand: str, **kwargs) -> argparse.ArgumentParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = lambda message: self._usage_error(parser, message)
        parser.add_argument("--json", action="store_true", help="Print JSON for scripts instead of text.")
        return parser

    def finish_verbs(self, verbs) -> None:
        """For a command with verbs (sub-parsers): --json after the verb too, and one-line usage errors there."""
        for sub in verbs.choices.values():
            sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="Print JSON.")
            sub.error = lambda message, sub=sub: self._usage_error(sub, message)

    def _usage_error(self, parser: argparse.ArgumentParser, message: str) -> None:
        # Raised inside parse_args, where Django does not catch CommandError on the command line.
        if getattr(self, "_called_from_command_line", False):
            if getattr(self, "_json_argv", False):
                sys.stdout.write(json.dumps(error_body(CommandError(message, returncode=USAGE))) + "\n")
                sys.exit(USAGE)
            sys.stderr.write(f"{parser.prog}: error: {message} (see --help)\n")
            sys.exit(USAGE)
        raise CommandError(message, returncode=USAGE)

    def write_json(self, data) -> None:
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2))


def usage_error(message: str) -> CommandError:
    """For argument combinations argparse cannot express."""
    return CommandError(message, returncode=USAGE)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Translate the job domain's errors into one-line CommandErrors with their exit codes."""
    try:
        yield
    except (JobNotFound, ScheduleNotFound) as exc:
        raise CommandError(str(exc), returncode=NOT_FOUND) from None
    except DuplicateJob as exc:
        raise CommandError(f"{exc} (existing job #{exc.existing_id})", returncode=CONFLICT) from None
    except (JobStateConflict, ScheduleStateConflict) as exc:
        raise CommandError(str(exc), returncode=CONFLICT) from None
    except UnknownHandler as exc:
        raise CommandError(f"{exc} See `manage.py jobs_handlers`.", returncode=INVALID) from None
    except InvalidSchedule as exc:
        raise Failure(f"Invalid schedule: {field_errors(exc.errors)}", returncode=INVALID, fields=exc.errors) from None
    except InvalidJob as exc:
        raise Failure(f"Invalid job: {field_errors(exc.errors)}", returncode=INVALID, fields=exc.errors) from None


def field_errors(errors: dict) -> str:
    """`{"queue": ["Unknown queue."]}` as one line (a validator's message may span several)."""
    text = " ".join(
        f"{name}: " + " ".join(str(m).rstrip(".") + "." for m in messages) for name, messages in errors.items()
    )
    return " ".join(text.split())


# --- argparse `type=` functions: each returns the parsed value or raises ArgumentTypeError ---------


def json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, like \'{"seconds": 2}\'')
    return value


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_int(text: str) -> int:
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def job_id(text: str) -> int:
    try:
        return positive_int(text.lstrip("#"))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a job id (a positive whole number)") from None


def job_ids(text: str) -> list[int]:
    """Comma-separated job ids, like 12,13 (or #12,#13)."""
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of job ids, like 12,13")
    return [job_id(part) for part in parts]


def non_negative_float(text: str) -> float:
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def positive_float(text: str) -> float:
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def aware_datetime(text: str) -> datetime:
    """ISO 8601 date or date-time; without an offset it is read in TIME_ZONE."""
    try:
        value = parse_datetime(text)
        if value is None and (day := parse_date(text)) is not None:
            value = datetime.combine(day, datetime.min.time())
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date-time, like 2026-01-31T14:00:00Z")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def since(text: str) -> datetime:
    """A moment in the past: relative (`30s`, `10m`, `2h`, `1d`, `1w`: that long ago) or ISO 8601."""
    match = _RELATIVE.match(text.strip().lower())
    if match:
        return timezone.now() - timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])
    try:
        return aware_datetime(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a duration like 10m, 2h, 1d nor an ISO 8601 date-time"
        ) from None


def statuses(text: str) -> list[str]:
    """A comma list of job statuses (the option may also be repeated)."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in Job.Status.values]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown status {', '.join(unknown) or repr(text)}; choose from {', '.join(Job.Status.values)}"
        )
    return names


def http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL, like http://127.0.0.1:8000")
    return text.rstrip("/")


def flatten(groups: Sequence[Sequence[str]] | None) -> list[str]:
    return list(dict.fromkeys(item for group in groups or () for item in group))


def add_selection_arguments(parser: argparse.ArgumentParser, *, statuses_help: str) -> None:
    """--status/--handler/--queue/--since, shared by jobs_list and the bulk forms of retry and cancel."""
    parser.add_argument("--status", type=statuses, action="append", help=statuses_help)
    parser.add_argument("--handler", help="Only jobs of this handler.")
    parser.add_argument("--queue", help="Only jobs of this queue.")
    parser.add_argument("--since", type=since, help="Created since: 10m, 2h, 1d or an ISO date-time.")


def select(jobs: QuerySet[Job], *, status=None, handler=None, queue=None, since=None) -> QuerySet[Job]:
    """Narrow a selector's jobs by the selection arguments (each one optional)."""
    if status:
        jobs = jobs.filter(status__in=flatten(status))
    if handler:
        jobs = jobs.filter(handler=handler)
    if queue:
        jobs = jobs.filter(queue=queue)
    if since:
        jobs = jobs.filter(created_at__gte=since)
    return jobs


# --- text output -------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, max_width: int = 48) -> str:
    """Left-aligned columns, each as wide as its widest cell; long cells are cut with an ellipsis."""
    cells = [[_cell(value, max_width) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    lines = [headers, *cells]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines)


def _cell(value: object, max_width: int) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


def when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


seconds = duration  # the CLI's name for it


