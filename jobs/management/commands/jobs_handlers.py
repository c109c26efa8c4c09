"""manage.py jobs_handlers: what can be enqueued, and with which run options."""

from __future__ import annotations

import inspect

from django.conf import settings

from jobs.management import cli
from jobs.registry import HandlerSpec, all_handlers


class Command(cli.JobsCommand):
    help = (
        "List the registered handlers: their arguments (from the signature, with defaults) and the run options "
        "a job gets when the caller sets none, as job_enqueue applies them (* marks a value from the settings)."
    )

    def handle(self, *, json, **options):
        handlers = [self.describe(spec) for spec in all_handlers()]
        if json:
            return self.write_json(handlers)
        if not handlers:
            return self.stdout.write("No handlers registered.")
        rows = [
            [
                h["name"],
                self.mark(h, "queue"),
                self.mark(h, "max_attempts"),
                self.mark(h, "timeout"),
                h["priority"],
                h["concurrency_limit"] or "",
                f"{h['rate_limit'][0]}/{h['rate_limit'][1]:g}s" if h["rate_limit"] else "",
                cli.seconds(h["deadline_seconds"]) if h["deadline_seconds"] else "",
                "yes" if h["validates"] else "",
                h["description"],
            ]
            for h in handlers
        ]
        headers = [
            "NAME", "QUEUE", "ATTEMPTS", "TIMEOUT", "PRIORITY", "CONCURRENCY", "RATE", "DEADLINE", "VALIDATOR",
            "DESCRIPTION",
        ]  # fmt: skip
        self.stdout.write(cli.table(headers, rows, max_width=60))
        self.stdout.write("\nArguments (--args JSON keys):")
        for h in handlers:
            self.stdout.write(f"  {h['name']}({', '.join(argument_text(a) for a in h['arguments'])})")

    def describe(self, spec: HandlerSpec) -> dict:
        """The options a job of this handler gets when the caller sets none (as job_enqueue applies them)."""
        return {
            "name": spec.name,
            "queue": spec.queue or settings.JOBS_QUEUES[0],
            "max_attempts": spec.max_attempts or settings.JOBS_DEFAULT_MAX_ATTEMPTS,
            "timeout": spec.timeout or settings.JOBS_DEFAULT_TIMEOUT,
            "priority": spec.priority,
            "concurrency_limit": spec.concurrency_limit,
            "rate_limit": list(spec.rate_limit) if spec.rate_limit else None,  # [starts, seconds]
            "deadline_seconds": spec.deadline,  # after the job is due
            "validates": spec.validate is not None,
            "unique_by_args": spec.unique_by_args,  # a job without unique_key gets one from its arguments
            "arguments": arguments(spec),
            "description": spec.description,
            "from_settings": [name for name in ("queue", "max_attempts", "timeout") if not getattr(spec, name)],
        }

    def mark(self, handler: dict, name: str) -> str:
        return f"{handler[name]}{'*' if name in handler['from_settings'] else ''}"


def arguments(spec: HandlerSpec) -> list[dict]:
    """The handler's JSON arguments, read from its signature (the first parameter is the JobContext)."""
    parameters = list(inspect.signature(spec.func).parameters.values())[1:]
    return [
        {
            "name": p.name,
            "type": annotation_text(p.annotation),
            "required": p.default is inspect.Parameter.empty,
            "default": None if p.default is inspect.Parameter.empty else p.default,
        }
        for p in parameters
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]


def argument_text(argument: dict) -> str:
    """`seconds: float = 1.0`, as it reads in the signature."""
    text = argument["name"] + (f": {argument['type']}" if argument["type"] else "")
    return text if argument["required"] else f"{text} = {argument['default']!r}"


def annotation_text(annotation: object) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
