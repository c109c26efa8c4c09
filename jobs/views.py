"""The operator console: HTML pages under /jobs/. Each view parses its input, calls selectors or one
service, and presents; who may see a job is the selectors' business, who may act is `may_act`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import broker, dashboard, selectors, services
from jobs.console import BadCursor, JobPageFilter, keyset_page, may_act, related_jobs
from jobs.exceptions import DomainError, JobNotFound, JobStateConflict, PermissionDenied
from jobs.models import Job, JobEvent
from jobs.permissions import job_may_see_all
from jobs.stats import job_stats
from jobs.templatetags.console import badge_context, run_time

LIVE_MAX_IDS = 100
BULK_MAX_IDS = 100
BULK_VERBS = {"retry": "Retried", "cancel": "Cancelled"}
FILTER_FIELDS = ("status", "handler", "queue", "q", "trace_id", "created_after", "created_before")


@require_GET
@login_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """The whole system at a glance, for those who may see every job; others land on the list of their own."""
    if not job_may_see_all(request.user):
        return redirect("jobs:list")
    stats = job_stats()
    context = {
        "counts": [(status, stats["status"][status]) for status in Job.Status.values],
        "total": stats["status"]["total"],
        "queues": stats["queues"],
        "last_hour": stats["throughput"]["last_hour"],
        "minutes": dashboard.finished_per_minute(),
        "failures": _with_permissions(dashboard.latest_failures(), request.user),
        "waiting": dashboard.next_waiting(),
        "clusters": broker.cluster_stats(),
        "running": dashboard.running_now(),
        "stale_seconds": f"{settings.JOBS_STALE_SECONDS:g}",
        "stale": sum(q["stale"] for q in stats["queues"]),
        "active": sum(stats["status"][status] for status in Job.ACTIVE),
        "paused": [q for q in stats["queues"] if q["paused"]],
        "may_pause": request.user.has_perm("jobs.pause_queue"),
    }
    return render(request, "jobs/dashboard.html", context)


@require_GET
@login_required
def job_list_page(request: HttpRequest) -> HttpResponse:
    jobs = JobPageFilter(request.GET, queryset=selectors.job_list(user=request.user))
    bulk = {action: may_act(request.user, action) for action in BULK_VERBS}
    context = {"filter": jobs, "jobs": [], "next_url": None, "bulk": bulk, "may_bulk": any(bulk.values())}
    if not jobs.is_valid():
        return render(request, "jobs/list.html", context, status=400)
    try:
        page = keyset_page(jobs.qs, before=request.GET.get("before"))
    except BadCursor as exc:
        context["cursor_error"] = str(exc)
        return render(request, "jobs/list.html", context, status=400)
    query = request.GET.copy()
    query.pop("before", None)
    context["filter_query"] = _filter_query(request.GET).urlencode()
    context["jobs"] = _with_permissions(page.jobs, request.user)
    context["first_url"] = f"?{query.urlencode()}" if "before" in request.GET else None
    if page.next_cursor:
        query["before"] = page.next_cursor
        context["next_url"] = f"?{query.urlencode()}"
    return render(request, "jobs/list.html", context)


@require_GET
@login_required
def job_detail_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_or_404(request, pk)
    related = related_jobs(job=job, user=request.user)
    upstream, downstream = selectors.job_dependencies(job=job, user=request.user)
    context = {**_detail_context(job, request), "related": related, "upstream": upstream, "downstream": downstream}
    return render(request, "jobs/detail.html", context)


@require_GET
@login_required
def job_list_live(request: HttpRequest) -> JsonResponse:
    """Fresh badge, progress bar and buttons of up to 100 jobs (`?ids=1,2,3`), for the list page's
    script; jobs the user may not see are left out."""
    try:
        ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.strip()]
    except ValueError:
        return JsonResponse({"ids": ["Give comma-separated job ids."]}, status=400)
    if len(ids) > LIVE_MAX_IDS:
        return JsonResponse({"ids": [f"Give at most {LIVE_MAX_IDS} ids."]}, status=400)
    jobs = _with_permissions(selectors.job_list(user=request.user).filter(pk__in=ids), request.user)
    next_url = safe_next(request, request.GET.get("next"), reverse("jobs:list"))
    return JsonResponse({"jobs": [_live_entry(job, _row_parts(job, next_url, request)) for job in jobs]})


@require_GET
@login_required
def job_detail_live(request: HttpRequest, pk: int) -> JsonResponse:
    """Every changing part of the job page, rendered by the same templates as the page."""
    job = _get_or_404(request, pk)
    context = _detail_context(job, request)
    parts = _row_parts(job, context["next"], request)
    for part in ("facts", "outcome", "timeline", "logs"):
        parts[part] = render_to_string(f"jobs/_detail_{part}.html", context, request=request)
    return JsonResponse({"jobs": [_live_entry(job, parts)]})


@require_POST
@login_required
def job_retry_action(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "retry")


@require_POST
@login_required
def job_cancel_action(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "cancel")


def _act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    job = _get_or_404(request, pk)
    back = safe_next(request, request.POST.get("next"), reverse("jobs:detail", args=[job.pk]))
    if not may_act(request.user, action, job):
        messages.error(request, f"You do not have permission to {action} jobs.")
        return redirect(back)
    try:
        if action == "retry":
            job = services.job_retry(job=job, by=request.user)
            messages.success(request, f"Job #{job.pk} was queued again.")
        else:
            job = services.job_cancel(job=job, by=request.user)
            messages.success(request, _cancel_message(job))
    except JobStateConflict as exc:
        messages.error(request, str(exc))
    return redirect(back)


@require_POST
@login_required
def queue_pause_action(request: HttpRequest, name: str) -> HttpResponse:
    """Pause or resume (`resume=1`) a queue on every cluster, then back to the dashboard."""
    resume = request.POST.get("resume") == "1"
    try:
        if resume:
            services.queue_resume(name=name, by=request.user)
        else:
            services.queue_pause(name=name, by=request.user)
        messages.success(request, f"Queue {name} {'resumed' if resume else 'paused'}.")
    except DomainError as exc:  # not allowed, or an unknown queue
        messages.error(request, str(exc))
    return redirect("jobs:dashboard")


@require_POST
@login_required
def job_bulk_action(request: HttpRequest) -> HttpResponse:
    """Retry or cancel the jobs ticked on the list (`ids`, `action`), by the same rules as one at a
    time; the message counts what was done and, by reason, what was skipped."""
    back = safe_next(request, request.POST.get("next"), reverse("jobs:list"))
    action = request.POST.get("action", "")
    raw_ids = [part for part in request.POST.getlist("ids") if part.strip()]
    if action not in BULK_VERBS:
        messages.error(request, "Choose Retry selected or Cancel selected.")
    elif not raw_ids:
        messages.error(request, f"Select the jobs to {action} first.")
    elif len(raw_ids) > BULK_MAX_IDS:
        messages.error(request, f"Select at most {BULK_MAX_IDS} jobs at once.")
    elif not all(_is_job_id(part) for part in raw_ids):
        messages.error(request, "The selection holds something that is not a job id.")
    elif job_may_see_all(request.user) and not may_act(request.user, action):
        # Whoever sees every job acts by permission; an owner acts on their own jobs (the services check each).
        messages.error(request, f"You do not have permission to {action} jobs.")
    else:
        _bulk(request, action, {int(part) for part in raw_ids})
    return redirect(back)


@require_http_methods(["GET", "POST"])
@login_required
def job_bulk_matching_action(request: HttpRequest) -> HttpResponse:
    """Retry or cancel every job matching the list's filter (`action` and the filter's fields): GET
    shows how many and asks; a POST with `confirm=1` acts (at most JOBS_BULK_MAX_JOBS), by the same
    service and rules as POST /api/v1/jobs/retry/ and /cancel/."""
    data = request.POST if request.method == "POST" else request.GET
    action, query = data.get("action", ""), _filter_query(data)
    back = f"{reverse('jobs:list')}?{query.urlencode()}"
    jobs = JobPageFilter(query, queryset=selectors.job_list(user=request.user))
    if action not in BULK_VERBS:
        messages.error(request, "Choose retry or cancel.")
    elif not query:
        messages.error(request, "Filter the list first: bulk actions act on the jobs matching a filter.")
    elif not jobs.is_valid():
        messages.error(request, "The filter is not valid; correct it on the list first.")
    else:
        try:
            if request.method == "POST" and data.get("confirm") == "1":
                _bulk_matching(request, action, jobs.qs)
            else:
                candidates = services.job_bulk_candidates(action=action, jobs=jobs.qs, by=request.user)
                context = {"action": action, "count": candidates.count(), "limit": settings.JOBS_BULK_MAX_JOBS,
                           "fields": list(query.lists()), "back": back}  # fmt: skip
                return render(request, "jobs/bulk_confirm.html", context)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
    return redirect(back)


def _bulk_matching(request: HttpRequest, action: str, jobs) -> None:
    many = services.job_retry_matching if action == "retry" else services.job_cancel_matching
    outcome = many(jobs=jobs, by=request.user, limit=settings.JOBS_BULK_MAX_JOBS)
    text = outcome.summary(BULK_VERBS[action])
    if outcome.matched > settings.JOBS_BULK_MAX_JOBS:
        text += f" {outcome.matched} matched; at most {settings.JOBS_BULK_MAX_JOBS} are done at once: repeat for the rest."
    messages.add_message(request, messages.SUCCESS if outcome.done else messages.WARNING, text)


def _filter_query(data: QueryDict) -> QueryDict:
    """The list filter's non-empty fields of `data`, nothing else."""
    query = QueryDict(mutable=True)
    for name in FILTER_FIELDS:
        values = [value for value in data.getlist(name) if value.strip()]
        if values:
            query.setlist(name, values)
    return query


def _is_job_id(text: str) -> bool:
    text = text.strip()
    return text.isascii() and text.isdigit() and 0 < len(text) < 19


def _bulk(request: HttpRequest, action: str, ids: set[int]) -> None:
    jobs = selectors.job_list(user=request.user).filter(pk__in=ids).order_by("id")
    many = services.job_retry_many if action == "retry" else services.job_cancel_many
    outcome = many(jobs=jobs, by=request.user)
    missing = len(ids) - outcome.done - sum(outcome.skipped.values())
    if missing:
        outcome.skipped["not found"] += missing
    level = messages.SUCCESS if outcome.done else messages.WARNING
    messages.add_message(request, level, outcome.summary(BULK_VERBS[action]))


def _cancel_message(job: Job) -> str:
    if job.status == Job.Status.CANCELLED:
        return f"Job #{job.pk} was cancelled."
    return f"Cancellation of job #{job.pk} requested: it stops at its next check."


def _get_or_404(request: HttpRequest, pk: int) -> Job:
    try:
        return selectors.job_get(job_id=pk, user=request.user)
    except JobNotFound:
        raise Http404(f"Job {pk} not found.") from None


def _with_permissions(jobs, user) -> list[Job]:
    jobs = list(jobs)
    for job in jobs:
        job.may_retry = job.can_retry and may_act(user, "retry", job)
        job.may_cancel = job.can_cancel and may_act(user, "cancel", job)
    return jobs


def _detail_context(job: Job, request: HttpRequest) -> dict:
    _with_permissions([job], request.user)
    events = selectors.job_events(job=job)
    failures = [event for event in events if event.kind in (JobEvent.Kind.FAILED, JobEvent.Kind.RETRY_SCHEDULED)]
    return {
        "job": job,
        "fired_by": job.schedule if job.schedule_id else None,  # read here: templates run no queries
        "waiting_for": selectors.job_wait_reason(job=job),
        "last_failure": failures[-1] if failures else None,
        "timeline": [event for event in events if event.kind != JobEvent.Kind.LOG],
        "logs": [event for event in events if event.kind == JobEvent.Kind.LOG],
        "next": reverse("jobs:detail", args=[job.pk]),
    }


def _row_parts(job: Job, next_url: str, request: HttpRequest) -> dict[str, str]:
    context = {"job": job, "status": job.status, "next": next_url}
    return {
        "badge": render_to_string("jobs/_status_badge.html", badge_context(job)),
        "finished": render_to_string("jobs/_finished.html", context),
        "progress": render_to_string("jobs/_progress.html", context),
        "actions": render_to_string("jobs/_actions.html", context, request=request),
        "attempts": f"{job.attempts}/{job.max_attempts}",
        "duration": escape(run_time(job)),
    }


def _live_entry(job: Job, parts: dict[str, str]) -> dict:
    return {"id": job.pk, "status": job.status, "active": not job.is_finished, "parts": parts}


def safe_next(request: HttpRequest, candidate: str | None, fallback: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback
