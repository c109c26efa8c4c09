"""manage.py jobs_stats: the state of the job system at a glance."""

from __future__ import annotations

from jobs.management import cli
from jobs.stats import job_stats


class Command(cli.JobsCommand):
    help = "Counts by status; per queue: depth, oldest due job's age, running; jobs finished last minute/hour."

    def handle(self, *, json, **options):
        stats = job_stats()
        if json:
            return self.write_json(stats)
        status = stats["status"]
        self.stdout.write("Jobs: " + ", ".join(f"{status[name]} {name}" for name in status))
        rows = [
            [
                q["queue"],
                q["queued"],
                q["due"],
                q["delayed"],
                cli.seconds(q["oldest_age_seconds"]),
                q["running"],
                q["stale"] or "",
            ]
            for q in stats["queues"]
        ]
        headers = ["QUEUE", "QUEUED", "DUE", "DELAYED", "OLDEST DUE", "RUNNING", "STALE"]
        self.stdout.write("\n" + cli.table(headers, rows))
        rows = [
            [window.replace("_", " "), t["total"], t["succeeded"], t["failed"], t["cancelled"], f"{t['per_second']}/s"]
            for window, t in stats["throughput"].items()
        ]
        headers = ["FINISHED", "TOTAL", "SUCCEEDED", "FAILED", "CANCELLED", "RATE"]
        self.stdout.write("\n" + cli.table(headers, rows))
