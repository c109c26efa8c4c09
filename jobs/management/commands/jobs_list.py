"""manage.py jobs_list [--status S[,S]] [--handler H] [--queue Q] [--since 10m|ISO] [--limit N]"""

from __future__ import annotations

from jobs import selectors
from jobs.api.serializers import JobSerializer
from jobs.management import cli


class Command(cli.JobsCommand):
    help = "List jobs, newest first, as a table (or JSON)."

    def add_arguments(self, parser):
        cli.add_selection_arguments(
            parser, statuses_help="queued, running, succeeded, failed, cancelled; repeat or comma-separate."
        )
        parser.add_argument("--limit", type=cli.positive_int, default=50, help="At most this many (default 50).")

    def handle(self, *, status, handler, queue, since, limit, json, **options):
        jobs = cli.select(selectors.job_list(), status=status, handler=handler, queue=queue, since=since)
        jobs = list(jobs[: limit + 1])  # one more tells whether the list was cut
        more, jobs = len(jobs) > limit, jobs[:limit]
        if json:
            return self.write_json(JobSerializer(jobs, many=True).data)
        if not jobs:
            return self.stdout.write("No jobs.")
        rows = [
            [
                job.pk,
                job.status,
                job.handler,
                job.queue,
                f"{job.attempts}/{job.max_attempts}",
                cli.progress_text(job.progress),
                cli.when(job.created_at),
                cli.seconds(job.duration) if job.status not in (job.Status.WAITING, job.Status.QUEUED) else "",
                (job.error or {}).get("message", ""),
            ]
            for job in jobs
        ]
        headers = ["ID", "STATUS", "HANDLER", "QUEUE", "TRIES", "PROGRESS", "CREATED", "TOOK", "ERROR"]
        self.stdout.write(cli.table(headers, rows))
        if more:
            self.stdout.write(f"(the newest {limit}; use --limit or narrower filters for more)")
