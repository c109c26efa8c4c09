from django.conf import settings
from django.core.checks import Error, register


@register()
def broker_settings(app_configs, **kwargs) -> list[Error]:
    """django-q2 hands a task out again after `retry` seconds: it must outlast the longest job."""
    q = settings.Q_CLUSTER
    errors = []
    if q.get("retry", 60) <= settings.JOBS_MAX_TIMEOUT:
        errors.append(
            Error("Q_CLUSTER['retry'] must exceed JOBS_MAX_TIMEOUT, or long jobs are delivered twice.", id="jobs.E001")
        )
    if settings.JOBS_STALE_SECONDS <= 2 * settings.JOBS_HEARTBEAT_SECONDS:
        errors.append(Error("JOBS_STALE_SECONDS must exceed two heartbeats.", id="jobs.E002"))
    return errors
