"""Presentation helpers for the console templates: no queries, only formatting."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django import template
from django.template.loader import select_template
from django.utils import timezone

from jobs.dashboard import MinuteCount
from jobs.formatting import duration
from jobs.models import Job

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


@register.filter
def run_time(job: Job) -> str:
    """How long a job ran, or has run so far; a dash while it is queued, also between attempts
    (its last start is then history, and the time since is waiting, not running)."""
    return "—" if job.status in (Job.Status.WAITING, Job.Status.QUEUED) else seconds(job.duration)


def countdown(seconds_left: float) -> str:
    """How long until something happens, rounded as a person says it: 4.7 s, 9 min, 2 h 05 min, 3 d 4 h."""
    if seconds_left < 59.95:
        return f"{max(0.0, seconds_left):.1f} s"
    minutes = round(seconds_left / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def badge_context(job: Job, *, now: datetime | None = None) -> dict[str, str]:
    """What `_status_badge.html` needs to draw a job. A queued job that is not due yet says what it
    waits for: "scheduled in 9 min", or, between attempts, "retry 2/3 in 4.7 s"."""
    context = {"status": job.status, "badge_label": "", "badge_kind": "", "badge_title": ""}
    now = now or timezone.now()
    if job.status != Job.Status.QUEUED or job.run_after is None or job.run_after <= now:
        return context
    left = countdown((job.run_after - now).total_seconds())
    if job.attempts:
        label, kind = f"retry {job.attempts + 1}/{job.max_attempts} in {left}", "retry"
    else:
        label, kind = f"scheduled in {left}", "scheduled"
    when = timezone.localtime(job.run_after).strftime("%Y-%m-%d %H:%M:%S %Z")
    return {**context, "badge_label": label, "badge_kind": kind, "badge_title": f"queued; runs after {when}"}


@register.inclusion_tag("jobs/_status_badge.html")
def job_badge(job: Job) -> dict[str, str]:
    """The status badge of a job, as every page draws it (see badge_context)."""
    return badge_context(job)


@register.simple_tag(takes_context=True)
def job_result(context, job: Job) -> str:
    """A job's result, drawn by its handler's own template when it has one
    (`<app>/_result_<name>.html` for a handler named `<app>.<name>`), else as JSON."""
    app, _, name = job.handler.partition(".")
    names = [f"{app}/_result_{name}.html"] if name and "/" not in job.handler else []
    chosen = select_template([*names, "jobs/_result.html"])
    return chosen.render({**context.flatten(), "job": job, "result": job.result}, context.get("request"))


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
