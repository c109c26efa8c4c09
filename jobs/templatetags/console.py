"""Presentation helpers for the console templates: no queries, only formatting."""

from __future__ import annotations

import json
from datetime import timedelta

from django import template

from jobs.dashboard import MinuteCount
from jobs.formatting import duration

register = template.Library()

CHART_WIDTH, CHART_HEIGHT = 600, 120


@register.filter
def progress_percent(progress: dict | None) -> int | None:
    """0-100 from a job's {done, total}; None when the total is unknown."""
    progress = progress or {}
    done, total = progress.get("done") or 0, progress.get("total")
    if not total:
        return None
    return max(0, min(100, int(done * 100 / total)))


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def error_line(error: dict | None) -> str:
    """The first line of a job's error message, as a list shows it."""
    if not error:
        return ""
    message = str(error.get("message") or error.get("type") or "")
    return f"{error.get('type', 'Error')}: {message.splitlines()[0] if message else ''}"[:200]


@register.filter
def seconds(value: float | timedelta | None) -> str:
    """A duration for people (as the command line writes it), or a dash."""
    return duration(value) or "—"


@register.inclusion_tag("jobs/_chart.html")
def throughput_chart(minutes: list[MinuteCount]) -> dict:
    """Stacked bars (succeeded below failed) per minute, drawn as inline SVG: no chart library."""
    peak = max((m.succeeded + m.failed for m in minutes), default=0) or 1
    slot = CHART_WIDTH / max(1, len(minutes))
    bars = []
    for i, m in enumerate(minutes):
        ok_h = CHART_HEIGHT * m.succeeded / peak
        fail_h = CHART_HEIGHT * m.failed / peak
        bars.append(
            {
                "x": round(i * slot + 1, 1),
                "width": round(max(1.0, slot - 2), 1),
                "ok_y": round(CHART_HEIGHT - ok_h, 1),
                "ok_h": round(ok_h, 1),
                "fail_y": round(CHART_HEIGHT - ok_h - fail_h, 1),
                "fail_h": round(fail_h, 1),
                "minute": m.minute,
                "succeeded": m.succeeded,
                "failed": m.failed,
            }
        )
    return {
        "bars": bars,
        "peak": peak if any(m.succeeded or m.failed for m in minutes) else 0,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "total_succeeded": sum(m.succeeded for m in minutes),
        "total_failed": sum(m.failed for m in minutes),
    }
