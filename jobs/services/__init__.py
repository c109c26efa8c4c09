"""Every write to a job. Views, serializers, admin actions, commands, the broker and the runner call
these and nothing else changes a job. Each moves the status with a conditional UPDATE, so the
database settles races. The Job table is the queue: enqueueing is its INSERT."""

from jobs.services.batch import job_enqueue_many
from jobs.services.claim import RateLimit, job_next_due, job_reserve, job_start
from jobs.services.control import (
    job_bulk_candidates,
    job_cancel,
    job_cancel_matching,
    job_cancel_many,
    job_retry,
    job_retry_matching,
    job_retry_many,
)
from jobs.services.dependencies import job_dependants_recover
from jobs.services.enqueue import job_build, job_enqueue
from jobs.services.idempotency import idempotency_prune
from jobs.services.lifecycle import (
    job_fail,
    job_finish_cancelled,
    job_heartbeat,
    job_log,
    job_report_progress,
    job_succeed,
)
from jobs.services.maintenance import (
    cluster_forget_dead,
    cluster_report,
    job_expire_overdue,
    job_release_reserved,
    job_requeue_stale,
)
from jobs.services.schedule_firing import (
    schedule_ensure_builtins,
    schedule_fire,
    schedule_next_runs,
    schedule_plant,
    schedule_plant_missing,
    schedule_unplant,
)
from jobs.services.schedules import (
    schedule_check_may,
    schedule_clean,
    schedule_create,
    schedule_delete,
    schedule_pause,
    schedule_resume,
    schedule_run_now,
    schedule_update,
)
from jobs.services.queues import queue_limit_validate, queue_pause, queue_resume, queue_set_limit
from jobs.services.retention import PruneReport, job_prune, job_prune_cutoffs

__all__ = [
    "PruneReport",
    "RateLimit",
    "cluster_forget_dead",
    "cluster_report",
    "idempotency_prune",
    "job_build",
    "job_bulk_candidates",
    "job_cancel",
    "job_cancel_many",
    "job_cancel_matching",
    "job_dependants_recover",
    "job_enqueue",
    "job_enqueue_many",
    "job_expire_overdue",
    "job_fail",
    "job_finish_cancelled",
    "job_heartbeat",
    "job_log",
    "job_prune",
    "job_prune_cutoffs",
    "job_next_due",
    "job_release_reserved",
    "job_report_progress",
    "job_requeue_stale",
    "job_reserve",
    "job_retry",
    "job_retry_many",
    "job_retry_matching",
    "job_start",
    "job_succeed",
    "queue_limit_validate",
    "queue_pause",
    "queue_resume",
    "queue_set_limit",
    "schedule_check_may",
    "schedule_clean",
    "schedule_create",
    "schedule_delete",
    "schedule_ensure_builtins",
    "schedule_fire",
    "schedule_next_runs",
    "schedule_pause",
    "schedule_plant",
    "schedule_plant_missing",
    "schedule_resume",
    "schedule_run_now",
    "schedule_unplant",
    "schedule_update",
]
