"""manage.py jobs_handlers: what can be enqueued, and with which run options."""

from __future__ import annotations

from django.conf import settings

from jobs.management import cli
from jobs.registry import HandlerSpec, all_handlers


class Command(cli.JobsCommand):
    help = "List the registered handlers with their run options (* marks a value taken from the settings)."

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
                "yes" if h["validates"] else "",
                h["description"],
            ]
            for h in handlers
        ]
        headers = ["NAME", "QUEUE", "ATTEMPTS", "TIMEOUT", "PRIORITY", "CONCURRENCY", "VALIDATOR", "DESCRIPTION"]
        self.stdout.write(cli.table(headers, rows, max_width=60))

    def describe(self, spec: HandlerSpec) -> dict:
        """The options a job of this handler gets when the caller sets none (as job_enqueue applies them)."""
        return {
            "name": spec.name,
            "queue": spec.queue or settings.JOBS_QUEUES[0],
            "max_attempts": spec.max_attempts or settings.JOBS_DEFAULT_MAX_ATTEMPTS,
            "timeout": spec.timeout or settings.JOBS_DEFAULT_TIMEOUT,
            "priority": spec.priority,
            "concurrency_limit": spec.concurrency_limit,
            "validates": spec.validate is not None,
            "description": spec.description,
            "from_settings": [name for name in ("queue", "max_attempts", "timeout") if not getattr(spec, name)],
        }

    def mark(self, handler: dict, name: str) -> str:
        return f"{handler[name]}{'*' if name in handler['from_settings'] else ''}"
