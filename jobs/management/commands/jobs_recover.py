"""manage.py jobs_recover: one pass of the maintenance the worker pump runs continuously."""

from __future__ import annotations

from jobs import services
from jobs.management import cli


class Command(cli.JobsCommand):
    help = (
        "Recover running jobs whose worker stopped beating (requeued, or failed when out of attempts), "
        "then hand every due queued job to the broker. Safe beside running workers."
    )

    def handle(self, *, json, **options):
        # Stale jobs first: the ones requeued become due and go out in the same pass.
        recovered = services.job_requeue_stale()
        dispatched = services.job_dispatch_due()
        if json:
            return self.write_json({"recovered_stale": recovered, "dispatched_due": dispatched})
        self.stdout.write(
            f"Recovered {recovered} stale running job{'s' if recovered != 1 else ''}; "
            f"dispatched {dispatched} due job{'s' if dispatched != 1 else ''}."
        )
