"""The schedules the system keeps, as data: each is created (by every cluster's upkeep, idempotently)
once its handler is registered, and is then an ordinary schedule an operator may pause or edit, but
not remove. settings.JOBS_BUILTIN_SCHEDULES replaces the list: None (the default) keeps it, and
JOBS_BUILTIN_SCHEDULES=false in the environment makes it empty."""

from __future__ import annotations

from django.conf import settings

BUILTIN_SCHEDULES: list[dict] = [
    {
        "name": "jobs-prune",
        "handler": "jobs.prune",
        "cron": "17 3 * * *",
        "description": "Retention: delete finished jobs past their keep time, daily.",
    },
    {
        "name": "jobs-idempotency-prune",
        "handler": "jobs.idempotency_prune",
        "cron": "7 * * * *",
        "description": "Retention: delete stored idempotent answers past JOBS_IDEMPOTENCY_SECONDS, hourly.",
    },
    {
        "name": "updater-prune-feeds",
        "handler": "updater.prune_feeds",
        "cron": "37 * * * *",
        "description": "Retention: delete old imported feed files, hourly.",
    },
]


def builtin_schedules() -> list[dict]:
    """The built-ins' fields (those of `schedule_create`), read at run time so tests may replace them."""
    configured = getattr(settings, "JOBS_BUILTIN_SCHEDULES", None)
    return list(BUILTIN_SCHEDULES if configured is None else configured)
