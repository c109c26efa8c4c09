from django.conf import settings
from django.core.checks import Error, register

from jobs.services.retention import MAX_BATCH, RETAIN_SETTINGS


@register()
def job_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    if settings.JOBS_STALE_SECONDS <= 2 * settings.JOBS_HEARTBEAT_SECONDS:
        errors.append(Error("JOBS_STALE_SECONDS must exceed two heartbeats.", id="jobs.E002"))
    unknown = set(settings.JOBS_SERVE_QUEUES) - set(settings.JOBS_QUEUES)
    if unknown:
        errors.append(Error(f"JOBS_SERVE_QUEUES names queues not in JOBS_QUEUES: {sorted(unknown)}.", id="jobs.E003"))
    negative = [name for name in (*RETAIN_SETTINGS.values(), "JOBS_PRUNE_PAUSE_SECONDS") if getattr(settings, name) < 0]
    if negative:
        errors.append(Error(f"{', '.join(negative)} must be 0 or more (seconds).", id="jobs.E004"))
    if not 1 <= settings.JOBS_PRUNE_BATCH <= MAX_BATCH:
        errors.append(Error(f"JOBS_PRUNE_BATCH must be 1 to {MAX_BATCH}.", id="jobs.E005"))
    return errors
