"""manage.py jobs_cancel ID... | --status queued --handler X"""

from jobs import services
from jobs.management.actions import JobActionCommand
from jobs.models import Job


class Command(JobActionCommand):
    help = (
        "Cancel queued jobs, and ask running ones to stop, by id (one line each; exit 3 if an id is unknown, "
        "4 if a job has already finished) or by selection (default statuses waiting,queued,running; a summary)."
    )
    verb, past = "cancel", "Cancelled"
    action = staticmethod(services.job_cancel)
    action_many = staticmethod(services.job_cancel_many)
    default_statuses = [Job.Status.WAITING.value, Job.Status.QUEUED.value, Job.Status.RUNNING.value]

    def describe(self, job: Job) -> str:
        if job.status == Job.Status.RUNNING:
            return "cancel requested (running; it stops at its next cancellation check)"
        return "cancelled"
