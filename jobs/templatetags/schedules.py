"""Template helpers for the schedule pages and the navigation: no queries beyond the user's permissions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template

from jobs.schedule_console import schedule_may

register = template.Library()


@register.filter
def may_schedules(user, action: str = "view") -> bool:
    """`{% if user|may_schedules:"change" %}`: the services' rule, to show a link or a button."""
    return schedule_may(user, action)


@register.filter
def in_zone(at: datetime | None, tz: str) -> str:
    """A firing time in the schedule's own time zone (the pages show UTC beside it)."""
    if at is None or not tz or tz == "UTC":
        return ""
    return f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M %Z}"
