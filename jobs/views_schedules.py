"""The schedule pages under /jobs/schedules/: the list, a schedule's page, and its Pause, Resume and
Run now buttons. Who may see them and act is the services' rule (jobs.permissions.schedule_check_may):
staff holding a Schedule permission see them, jobs.change_schedule acts; anyone else gets a 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from jobs import selectors, services
from jobs.exceptions import DomainError, PermissionDenied, ScheduleNotFound
from jobs.models import Job, Schedule
from jobs.schedule_console import SchedulePageFilter, schedule_may
from jobs.views import safe_next

ACTIONS = {"pause": services.schedule_pause, "resume": services.schedule_resume, "run": services.schedule_run_now}


@require_GET
@login_required
def schedule_list_page(request: HttpRequest) -> HttpResponse:
    try:
        schedules = selectors.schedule_list(user=request.user)
    except PermissionDenied as exc:
        raise Forbidden(str(exc)) from None
    found = SchedulePageFilter(request.GET, queryset=schedules)
    context = {"filter": found, "schedules": [], "may_change": schedule_may(request.user, "change")}
    if not found.is_valid():
        return render(request, "jobs/schedules.html", context, status=400)
    context["schedules"] = list(found.qs)
    return render(request, "jobs/schedules.html", context)


@require_GET
@login_required
def schedule_detail_page(request: HttpRequest, name: str) -> HttpResponse:
    schedule = _get_or_404(request, name)
    context = {
        "schedule": schedule,
        "next_runs": services.schedule_next_runs(schedule=schedule),
        "runs": selectors.schedule_runs(schedule=schedule),
        "may_change": schedule_may(request.user, "change"),
    }
    return render(request, "jobs/schedule_detail.html", context)


@require_POST
@login_required
def schedule_pause_action(request: HttpRequest, name: str) -> HttpResponse:
    return _act(request, name, "pause")


@require_POST
@login_required
def schedule_resume_action(request: HttpRequest, name: str) -> HttpResponse:
    return _act(request, name, "resume")


@require_POST
@login_required
def schedule_run_now_action(request: HttpRequest, name: str) -> HttpResponse:
    return _act(request, name, "run")


def _act(request: HttpRequest, name: str, action: str) -> HttpResponse:
    """One service call; a refusal (permission, a run still going, quota) is an error message."""
    schedule = _get_or_404(request, name)
    back = safe_next(request, request.POST.get("next"), reverse("jobs:schedule-detail", args=[schedule.name]))
    try:
        outcome = ACTIONS[action](schedule=schedule, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(request, _done_message(schedule, action, outcome))
    return redirect(back)


def _done_message(schedule: Schedule, action: str, outcome: Schedule | Job) -> str:
    if action == "run":
        return f"Schedule {schedule.name}: job #{outcome.pk} queued now."
    if action == "pause":
        return f"Schedule {schedule.name} paused: it fires no more until resumed."
    when = f"{outcome.next_run_at:%Y-%m-%d %H:%M:%S} UTC" if outcome.next_run_at else "never (no more firings)"
    return f"Schedule {schedule.name} resumed: next run {when}."


def _get_or_404(request: HttpRequest, name: str) -> Schedule:
    try:
        return selectors.schedule_get(name=name, user=request.user)
    except ScheduleNotFound:
        raise Http404(f"Schedule {name!r} not found.") from None
    except PermissionDenied as exc:
        raise Forbidden(str(exc)) from None
