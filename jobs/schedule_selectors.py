"""Reads of schedules that the admin and the pages show, beside jobs.selectors' schedule_list,
schedule_get and schedule_runs (a module of its own: the schedule engine's work goes on in that one)."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from jobs import selectors
from jobs.models import Job, Schedule


def schedule_list_outcomes(*, user=None) -> QuerySet[Schedule]:
    """`schedule_list` (same rule: PermissionDenied unless staff with a Schedule permission), each with
    `last_run_id` too, the job whose status is `last_run_status`, for a link: one query for the list."""
    latest = Job.objects.filter(schedule=OuterRef("pk"), started_at__isnull=False).order_by("-started_at")
    return selectors.schedule_list(user=user).annotate(last_run_id=Subquery(latest.values("pk")[:1]))
