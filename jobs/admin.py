"""The Django admin for jobs: read-only facts, filters that use indexes, and bulk retry/cancel
actions that call the services and say what they did and what they skipped."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from jobs import selectors, services
from jobs.console import job_search
from jobs.datetimes import BoundedDateFieldListFilter
from jobs.exceptions import JobError
from jobs.models import Job, JobEvent
from jobs.registry import all_handlers
from jobs.templatetags.console import badge_context, progress_percent, run_time



def job_badge_html(job: Job) -> str:
    """A job's status badge as every page draws it (a planted firing reads "scheduled in ...")."""
    return mark_safe(render_to_string("jobs/_status_badge.html", badge_context(job)))

class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, an unfiltered changelist counts from the planner's estimate: COUNT(*) over
    millions of rows takes seconds, and the admin asks for it on every page."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [Job._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > 100_000:
                return int(row[0])
        return super().count


class HandlerFilter(admin.SimpleListFilter):
    """Choices from the registry, not from SELECT DISTINCT over the whole table."""

    title = "handler"
    parameter_name = "handler"

    def lookups(self, request, model_admin):
        return [(spec.name, spec.name) for spec in all_handlers()]

    def queryset(self, request, queryset):
        return queryset.filter(handler=self.value()) if self.value() else queryset


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(queue, queue) for queue in settings.JOBS_QUEUES]

    def queryset(self, request, queryset):
        return queryset.filter(queue=self.value()) if self.value() else queryset


def _to_the_millisecond(at) -> str:
    """Events of one attempt fall within the same second: milliseconds keep their order readable."""
    if at is None:
        return "—"
    at = timezone.localtime(at)
    return f"{at:%Y-%m-%d %H:%M:%S}.{at.microsecond // 1000:03d}"


def _ms_field(name: str):
    @admin.display(description=f"{name.replace('_', ' ')} (UTC)", ordering=name)
    def show(self, job: Job) -> str:
        return _to_the_millisecond(getattr(job, name))

    return show


class JobEventInline(admin.TabularInline):
    model = JobEvent
    fields = ["at_ms", "kind", "attempt", "actor", "message"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="at (UTC)", ordering="at")
    def at_ms(self, event: JobEvent) -> str:
        return _to_the_millisecond(event.at)


def _pretty(value) -> str:
    if value in (None, {}, []):
        return "—"
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', json.dumps(value, indent=2, sort_keys=True))


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id", "status_badge", "handler", "queue", "progress_display", "attempts_display", "duration_display",
        "requested_by", "created_at",
    ]  # fmt: skip
    list_display_links = ["id", "handler"]
    list_filter = ["status", HandlerFilter, QueueFilter, ("created_at", BoundedDateFieldListFilter)]
    search_fields = ["handler"]  # enables the box; get_search_results decides what a term matches
    search_help_text = "A job id, a trace id or a handler name (exact)."
    list_select_related = ["requested_by"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are a COUNT per filter choice over the whole table
    paginator = EstimatedCountPaginator
    ordering = ["-created_at", "-id"]
    actions = ["retry_selected", "cancel_selected"]
    inlines = [JobEventInline]
    change_form_template = "admin/jobs/job/change_form.html"

    class Media:
        css = {"all": ["jobs/badges.css", "jobs/admin.css"]}
    fieldsets = [
        (None, {"fields": ["console_link", "status_badge", "handler", "queue", "priority", "progress_display"]}),
        ("Attempts", {"fields": ["attempts_display", "timeout", "run_after_ms", "worker", "cancel_requested_at_ms"]}),
        ("Data", {"fields": ["args_pretty", "result_pretty", "error_pretty", "traceback"]}),
        ("Dependencies", {"fields": ["depends_on_display", "needed_by_display"]}),
        ("Who and when", {"fields": [
            "requested_by", "trace_id", "unique_key", "concurrency_key", "concurrency_limit", "created_at_ms",
            "deadline_ms", "reserved_at_ms", "reserved_by", "started_at_ms", "finished_at_ms", "heartbeat_at_ms",
            "duration_display",
        ]}),
    ]  # fmt: skip

    run_after_ms = _ms_field("run_after")
    cancel_requested_at_ms = _ms_field("cancel_requested_at")
    created_at_ms = _ms_field("created_at")
    reserved_at_ms = _ms_field("reserved_at")
    deadline_ms = _ms_field("deadline")
    started_at_ms = _ms_field("started_at")
    finished_at_ms = _ms_field("finished_at")
    heartbeat_at_ms = _ms_field("heartbeat_at")

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [field for _, options in self.fieldsets for field in options["fields"]]

    def get_queryset(self, request) -> QuerySet[Job]:
        took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        return super().get_queryset(request).annotate(took=took)

    def get_search_results(self, request, queryset, search_term):
        """Equality on indexed columns only: a LIKE over millions of rows would scan them all."""
        if not search_term.strip():
            return queryset, False
        return job_search(queryset, term=search_term), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a job's facts are history; its state moves only through the actions

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("jobs.retry_job")

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("jobs.cancel_job")

    @admin.action(description="Retry selected jobs", permissions=["retry"])
    def retry_selected(self, request, queryset) -> None:
        outcome = services.job_retry_many(jobs=queryset.order_by("id"), by=request.user)
        self.message_user(request, outcome.summary("Retried"), messages.SUCCESS if outcome.done else messages.WARNING)

    @admin.action(description="Cancel selected jobs", permissions=["cancel"])
    def cancel_selected(self, request, queryset) -> None:
        outcome = services.job_cancel_many(jobs=queryset.order_by("id"), by=request.user)
        self.message_user(request, outcome.summary("Cancelled"), messages.SUCCESS if outcome.done else messages.WARNING)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/retry/", wrap(self.retry_view), name="jobs_job_retry"),
            path("<path:object_id>/cancel/", wrap(self.cancel_view), name="jobs_job_cancel"),
            *super().get_urls(),
        ]

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The Retry button of a job's page: POST only, CSRF-checked by admin_view."""
        return self._act(request, object_id, "retry")

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._act(request, object_id, "cancel")

    def _act(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job):
            raise Http404(f"Job {object_id} not found.")
        back = redirect("admin:jobs_job_change", job.pk)
        if not getattr(self, f"has_{action}_permission")(request):
            self.message_user(request, f"You do not have permission to {action} jobs.", messages.ERROR)
            return back
        try:
            if action == "retry":
                services.job_retry(job=job, by=request.user)
                self.message_user(request, f"Job #{job.pk} was queued again.", messages.SUCCESS)
            else:
                job = services.job_cancel(job=job, by=request.user)
                done = job.status == Job.Status.CANCELLED
                text = f"Job #{job.pk} was cancelled." if done else f"Cancellation of job #{job.pk} requested."
                self.message_user(request, text, messages.SUCCESS)
        except JobError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return back

    @admin.display(description="depends on")
    def depends_on_display(self, job: Job) -> str:
        return self._job_links(self._dependencies(job)[0])

    @admin.display(description="needed by")
    def needed_by_display(self, job: Job) -> str:
        return self._job_links(self._dependencies(job)[1])

    @staticmethod
    def _dependencies(job: Job) -> tuple[list[Job], list[Job]]:
        """Both lists from one read, kept on the job for the page's two fields."""
        if not hasattr(job, "_dependency_lists"):
            job._dependency_lists = selectors.job_dependencies(job=job)
        return job._dependency_lists

    def _job_links(self, jobs: list[Job]) -> str:
        if not jobs:
            return "—"
        return format_html_join(", ", '<a href="{}">#{}</a> {}', (
            (reverse("admin:jobs_job_change", args=[other.pk]), other.pk, job_badge_html(other)) for other in jobs
        ))  # fmt: skip

    @admin.display(description="status", ordering="status")
    def status_badge(self, job: Job) -> str:
        return job_badge_html(job)

    @admin.display(description="progress")
    def progress_display(self, job: Job) -> str:
        pct = progress_percent(job.progress)
        if pct is None:
            return str(job.progress.get("done", "—")) if job.progress else "—"
        return format_html('<progress max="100" value="{}"></progress> {}%', pct, pct)

    @admin.display(description="attempts", ordering="attempts")
    def attempts_display(self, job: Job) -> str:
        return f"{job.attempts}/{job.max_attempts}"

    @admin.display(description="duration", ordering="took")
    def duration_display(self, job: Job) -> str:
        return run_time(job)

    @admin.display(description="console")
    def console_link(self, job: Job) -> str:
        url = reverse("jobs:detail", args=[job.pk])
        return format_html('<a href="{}">open job #{} in the console</a>', url, job.pk)

    @admin.display(description="args")
    def args_pretty(self, job: Job) -> str:
        return _pretty(job.args)

    @admin.display(description="result")
    def result_pretty(self, job: Job) -> str:
        return _pretty(job.result)

    @admin.display(description="error")
    def error_pretty(self, job: Job) -> str:
        return _pretty({k: v for k, v in (job.error or {}).items() if k != "traceback"})

    @admin.display(description="traceback")
    def traceback(self, job: Job) -> str:
        text = (job.error or {}).get("traceback")
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text) if text else "—"

from jobs import admin_queues  # noqa: E402, F401  (queues and clusters)
from jobs import admin_schedules  # noqa: E402, F401  (schedules)
