"""When a schedule fires: pure functions of its rule (no database). Cron runs in the schedule's
time zone through croniter (a 6th field is seconds); an interval ticks on a grid anchored at the
schedule's creation, so every cluster computes the same firing times; once fires at `run_at`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

CRON, INTERVAL, ONCE = "cron", "interval", "once"


def cron_problem(expression: str) -> str | None:
    """Why `expression` is not a cron expression we run, or None."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        return "Give 5 fields (minute hour day month weekday), or 6 with seconds last."
    if not croniter.is_valid(expression):
        return f"Not a valid cron expression: {expression!r}."
    return None


def timezone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"Unknown time zone {name!r} (use an IANA name such as Europe/Paris)."
    return None


def anchor(created_at: datetime) -> datetime:
    """The first tick of an interval schedule's grid: its creation, to the second."""
    return created_at.replace(microsecond=0)


def next_tick(
    *, kind: str, after: datetime, cron: str = "", tz: str = "UTC", interval_seconds: int | None = None,
    run_at: datetime | None = None, anchored_at: datetime | None = None,
) -> datetime | None:
    """The first firing strictly after `after` (aware), in UTC; None when the rule has no more."""
    if kind == CRON:
        local = after.astimezone(ZoneInfo(tz))
        return croniter(cron, local).get_next(datetime).astimezone(UTC)
    if kind == INTERVAL:
        step = timedelta(seconds=interval_seconds)
        start = anchored_at or after
        if after < start:
            return start.astimezone(UTC)
        return (start + step * ((after - start) // step + 1)).astimezone(UTC)
    return run_at.astimezone(UTC) if run_at and run_at > after else None


def previous_ticks(
    *, kind: str, before: datetime, after: datetime, count: int, cron: str = "", tz: str = "UTC",
    interval_seconds: int | None = None, anchored_at: datetime | None = None,
) -> list[datetime]:
    """Up to `count` of the latest firings in (after, before], oldest first (catch-up of all missed)."""
    ticks: list[datetime] = []
    if count <= 0 or kind == ONCE:
        return ticks
    if kind == CRON:
        it = croniter(cron, before.astimezone(ZoneInfo(tz)) + timedelta(microseconds=1))
        while len(ticks) < count:
            tick = it.get_prev(datetime).astimezone(UTC)
            if tick <= after:
                break
            ticks.append(tick)
    else:
        step = timedelta(seconds=interval_seconds)
        start = anchored_at or after
        tick = start + step * ((before - start) // step)
        while len(ticks) < count and tick > after and tick >= start:
            ticks.append(tick.astimezone(UTC))
            tick -= step
    return ticks[::-1]
