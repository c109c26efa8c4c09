"""manage.py jobs_queue list|pause|resume|limit: see and control queues on every cluster at once."""

from __future__ import annotations

from jobs import services
from jobs.management import cli
from jobs.stats import queue_stats


def limit_value(text: str) -> int | None:
    """A positive number, or `none` to lift the limit."""
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise cli.argparse.ArgumentTypeError(f"invalid limit {text}: give a number or none") from None


class Command(cli.JobsCommand):
    help = (
        "list: every queue with its depth, running jobs, oldest due job, limit and paused state. "
        "pause NAME / resume NAME: stop or restart starting its jobs on every cluster (running jobs finish). "
        "limit NAME N|none: at most N of its jobs reserved or running over all clusters."
    )

    def add_arguments(self, parser):
        verbs = parser.add_subparsers(dest="verb", required=True, metavar="list|pause|resume|limit")
        verbs.add_parser("list", help="Show the queues.")
        for verb in ("pause", "resume"):
            verbs.add_parser(verb, help=f"{verb.capitalize()} a queue.").add_argument("name")
        limit = verbs.add_parser("limit", help="Cap a queue's jobs in flight.")
        limit.add_argument("name")
        limit.add_argument("limit", type=limit_value)
        self.finish_verbs(verbs)

    def handle(self, *, verb, json, **options):
        with cli.domain_errors():
            if verb == "pause":
                services.queue_pause(name=options["name"])
            elif verb == "resume":
                services.queue_resume(name=options["name"])
            elif verb == "limit":
                services.queue_set_limit(name=options["name"], limit=options["limit"])
        queues = queue_stats()
        if verb != "list":
            queues = [q for q in queues if q["queue"] == options["name"]]
        if json:
            return self.write_json(queues)
        rows = [
            [
                q["queue"], q["weight"], q["due"], q["delayed"], q["reserved"], q["running"],
                cli.seconds(q["oldest_age_seconds"]), q["concurrency_limit"] or "",
                f"paused {cli.when(q['paused_at'])}" + (f" by {q['paused_by']}" if q["paused_by"] else "")
                if q["paused"] else "running",
            ]
            for q in queues
        ]  # fmt: skip
        headers = ["QUEUE", "WEIGHT", "DUE", "DELAYED", "RESERVED", "RUNNING", "OLDEST DUE", "LIMIT", "STATE"]
        self.stdout.write(cli.table(headers, rows))
