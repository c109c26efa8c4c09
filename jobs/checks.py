from django.conf import settings
from django.core.checks import Error, register


@register()
def job_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    if settings.JOBS_STALE_SECONDS <= 2 * settings.JOBS_HEARTBEAT_SECONDS:
        errors.append(Error("JOBS_STALE_SECONDS must exceed two heartbeats.", id="jobs.E002"))
    unknown = set(settings.JOBS_SERVE_QUEUES) - set(settings.JOBS_QUEUES)
    if unknown:
        errors.append(Error(f"JOBS_SERVE_QUEUES names queues not in JOBS_QUEUES: {sorted(unknown)}.", id="jobs.E003"))
    return errors
