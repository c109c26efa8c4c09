"""manage.py jobs_show ID: every field of a job, its history and its error."""

from __future__ import annotations

import json as jsonlib

from jobs import selectors
from jobs.api.serializers import JobDetailSerializer
from jobs.management import cli
from jobs.models import Job


class Command(cli.JobsCommand):
    help = "Show one job: every field, its events and its error traceback."

    def add_arguments(self, parser):
        parser.add_argument("id", type=cli.job_id, help="The job id.")

    def handle(self, *, id, json, **options):
        with cli.domain_errors():
            job = selectors.job_get(job_id=id)
        if json:
            return self.write_json(JobDetailSerializer(job).data)
        self.stdout.write(f"Job #{job.pk}  {job.handler}  {job.status}")
        self.stdout.write(cli.table(["FIELD", "VALUE"], self.fields(job), max_width=100))
        for title, value in (("Arguments", job.args), ("Result", job.result)):
            if value not in (None, {}, []):
                self.stdout.write(f"\n{title}:\n{jsonlib.dumps(value, indent=2)}")
        if job.error:
            self.stdout.write(f"\nError: {job.error.get('type', '')}: {job.error.get('message', '')}")
            if job.error.get("traceback"):
                self.stdout.write(job.error["traceback"].rstrip())
        upstream, downstream = selectors.job_dependencies(job=job)
        for title, jobs in (("Depends on", upstream), ("Needed by", downstream)):
            if jobs:
                listed = ", ".join(f"#{other.pk} {other.handler} ({other.status})" for other in jobs)
                self.stdout.write(f"\n{title}: {listed}")
        self.stdout.write("\nEvents:")
        events = selectors.job_events(job=job)
        rows = [
            [cli.when(e.at), e.kind, e.attempt, e.actor.username if e.actor else "", e.message] for e in events
        ]
        self.stdout.write(cli.table(["AT", "KIND", "ATTEMPT", "ACTOR", "MESSAGE"], rows, max_width=80) if rows
                          else "(none yet)")

    def fields(self, job: Job) -> list[list[object]]:
        progress = job.progress or {}
        return [
            ["queue", job.queue],
            ["priority", job.priority],
            ["attempts", f"{job.attempts} of {job.max_attempts}"],
            ["timeout", f"{job.timeout}s"],
            ["unique key", job.unique_key or ""],
            ["concurrency", f"{job.concurrency_key} (limit {job.concurrency_limit})" if job.concurrency_key else ""],
            ["progress", " ".join(filter(None, [cli.progress_text(progress), progress.get("message", "")]))],
            ["rate", f"{progress['rate']}/s" if progress.get("rate") else ""],
            ["requested by", job.requested_by.username if job.requested_by else ""],
            ["trace id", job.trace_id],
            ["worker", job.worker],
            ["created", cli.when(job.created_at)],
            ["run after", cli.when(job.run_after)],
            ["deadline", cli.when(job.deadline)],
            ["reserved", " ".join(filter(None, [cli.when(job.reserved_at), job.reserved_by]))],
            ["started", cli.when(job.started_at)],
            ["heartbeat", cli.when(job.heartbeat_at)],
            ["finished", cli.when(job.finished_at)],
            ["duration", cli.seconds(job.duration)],
            ["cancel requested", cli.when(job.cancel_requested_at)],
        ]
