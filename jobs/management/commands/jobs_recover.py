"""manage.py jobs_recover: one pass of the upkeep every cluster runs each heartbeat."""

from __future__ import annotations

from jobs import services
from jobs.management import cli


class Command(cli.JobsCommand):
    help = (
        "Requeue running jobs whose worker stopped beating (failed when out of attempts), release jobs "
        "reserved by clusters that stopped reporting or in paused queues, expire jobs past their deadline, "
        "settle waiting jobs whose dependencies ended, and plant the next firing of schedules left without one. "
        "Safe beside running clusters."
    )

    def handle(self, *, json, **options):
        counts = {
            "recovered_stale": services.job_requeue_stale(),
            "released_reserved": services.job_release_reserved(),
            "expired": services.job_expire_overdue(),
            "settled_waiting": services.job_dependants_recover(),
            "schedules_planted": services.schedule_plant_missing(),
        }
        if json:
            return self.write_json(counts)
        self.stdout.write(
            "Recovered {recovered_stale} stale running, released {released_reserved} reserved, "
            "expired {expired} overdue, settled {settled_waiting} waiting, "
            "planted {schedules_planted} schedule firings.".format(**counts)
        )
