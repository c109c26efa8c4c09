"""manage.py jobs_health: the readiness that /readyz answers, for scripts and container probes."""

from __future__ import annotations

from jobs import health
from jobs.management import cli


class Command(cli.JobsCommand):
    help = (
        "Check that the database answers, migrations are applied and (with JOBS_REQUIRE_WORKERS) a cluster "
        "is alive. Exit 0 when ready, 1 when not."
    )

    def handle(self, *, json, **options):
        report = health.readiness()
        if json:
            self.write_json({"status": "ok" if report["ready"] else "unavailable", "checks": report["checks"]})
        else:
            for name, result in report["checks"].items():
                self.stdout.write(f"{name:<11} {result}")
            self.stdout.write("ready" if report["ready"] else "NOT READY")
        if not report["ready"]:
            self.exit_code = cli.FAILED
