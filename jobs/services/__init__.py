"""Every write to a job. Views, serializers, admin actions, commands and the runner call these and
nothing else changes a job. Each moves the status with a conditional UPDATE, so the database
settles races, and dispatches to the broker only after commit."""

from jobs.services.control import job_cancel, job_cancel_many, job_retry, job_retry_many
from jobs.services.enqueue import job_enqueue
from jobs.services.lifecycle import (
    job_claim,
    job_fail,
    job_finish_cancelled,
    job_heartbeat,
    job_log,
    job_report_progress,
    job_succeed,
)
from jobs.services.maintenance import job_dispatch_due, job_release_undelivered, job_requeue_stale

__all__ = [
    "job_cancel",
    "job_cancel_many",
    "job_claim",
    "job_dispatch_due",
    "job_enqueue",
    "job_fail",
    "job_finish_cancelled",
    "job_heartbeat",
    "job_log",
    "job_release_undelivered",
    "job_report_progress",
    "job_requeue_stale",
    "job_retry",
    "job_retry_many",
    "job_succeed",
]
