"""manage.py jobs_retry ID... | --status failed --handler X"""

from jobs import services
from jobs.management.actions import JobActionCommand
from jobs.models import Job


class Command(JobActionCommand):
    help = (
        "Queue failed or cancelled jobs again, by id (one line each; exit 3 if an id is unknown, 4 if a job "
        "cannot be retried) or by selection (default statuses failed,cancelled; a summary)."
    )
    verb, past = "retry", "Retried"
    action = staticmethod(services.job_retry)
    action_many = staticmethod(services.job_retry_many)
    default_statuses = [Job.Status.FAILED.value, Job.Status.CANCELLED.value]
