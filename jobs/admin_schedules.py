"""Admin for schedules, loaded by `jobs.admin`. Every write goes through the schedule services: the
form is validated by `schedule_clean` (each message on its field), add and change save through
`schedule_create` / `schedule_update`, deletion through `schedule_delete` (never a built-in), and the
actions pause, resume and run now. Permissions are Django's model permissions on Schedule, which the
services check again."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as delete_confirmed
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from jobs import selectors, services
from jobs.admin import HandlerFilter, job_badge_html
from jobs.exceptions import DomainError, InvalidJob, PermissionDenied, UnknownHandler
from jobs.models import Schedule
from jobs.permissions import handler_may_enqueue
from jobs.registry import all_handlers, get_handler
from jobs.services.schedules import EDITABLE


class ScheduleForm(forms.ModelForm):
    """Checked by the services' own validation, not the model's: one set of rules and messages for the
    admin, the API and the command. `changes` holds what to pass to schedule_create / schedule_update."""

    user = None  # set by ScheduleAdmin.get_form: the handler's enqueue permission is the user's
    handler = forms.CharField(max_length=200, widget=forms.Select)  # any value reaches the service's check

    class Meta:
        model = Schedule
        fields = list(EDITABLE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "handler" in self.fields:
            names = [spec.name for spec in all_handlers()]
            if self.instance.handler and self.instance.handler not in names:
                names.append(self.instance.handler)  # its handler is gone: still shown, and refused on save
            self.fields["handler"].widget.choices = [("", "---------")] + [(name, name) for name in names]

    def clean(self) -> dict:
        cleaned = super().clean()
        editing = self.instance.pk is not None
        given = self.changed_data if editing else list(self.fields)  # an edit passes what it changes
        self.changes = {name: cleaned[name] for name in given if name in EDITABLE and name in cleaned}
        try:
            services.schedule_clean(fields=self.changes, schedule=self.instance if editing else None)
        except InvalidJob as exc:
            for field, problems in exc.errors.items():
                if field not in self.fields:
                    self.add_error(None, [f"{field}: {problem}" for problem in problems])
                elif field not in self.errors:  # a value the form could not parse is reported once
                    self.add_error(field, problems)
        self._check_handler_permission()
        return cleaned

    def _check_handler_permission(self) -> None:
        """As the services will: a new handler needs its own enqueue permission (on the field, not a 500)."""
        handler = self.changes.get("handler")
        if not handler or "handler" in self.errors or handler == self.instance.handler:
            return
        try:
            allowed = handler_may_enqueue(self.user, get_handler(handler))
        except UnknownHandler:
            return
        if not allowed:
            self.add_error("handler", f"You may not enqueue {handler!r}.")

    def _post_clean(self) -> None:
        """No model validation and no copy onto the instance: the services validate and save."""


class PausedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("enabled", "enabled"), ("paused", "paused")]

    def queryset(self, request, queryset):
        if self.value() in ("enabled", "paused"):
            return queryset.filter(paused_at__isnull=self.value() == "enabled")
        return queryset


def _when(at: datetime, tz: str) -> str:
    """A firing time in UTC, and in the schedule's time zone when that differs."""
    text = f"{at:%Y-%m-%d %H:%M:%S} UTC"
    if tz and tz != "UTC":
        text += f" ({at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M %Z} {tz})"
    return text


def _badge(status: str) -> str:
    return mark_safe(render_to_string("jobs/_status_badge.html", {"status": status}))


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = ["name", "handler", "rule", "next_run_at", "last_outcome", "state", "builtin"]
    list_filter = ["kind", PausedFilter, "builtin", HandlerFilter]
    search_fields = ["name", "handler"]
    ordering = ["name"]
    actions = ["resume_selected", "pause_selected", "run_now_selected", "delete_selected"]
    fieldsets = [
        (None, {"fields": ["name", "description", "handler", "args"]}),
        ("Rule", {"fields": ["kind", "cron", "timezone", "interval_seconds", "run_at"]}),
        ("Policies", {"fields": ["catch_up", "catch_up_limit", "overlap", "jitter_seconds"]}),
        ("Run options (empty: the handler's default)", {
            "fields": ["queue", "priority", "timeout", "max_attempts", "deadline_seconds"]
        }),
    ]  # fmt: skip
    state_fieldsets = [
        ("State", {"fields": ["console_link", "state", "builtin", "next_run_at", "next_runs", "created_by",
                              "created_at", "updated_at"]}),
        ("Latest runs", {"fields": ["latest_runs"]}),
    ]  # fmt: skip

    class Media:
        css = {"all": ["jobs/badges.css", "jobs/admin.css"]}

    def get_queryset(self, request):
        try:
            return selectors.schedule_list(user=request.user)
        except PermissionDenied:  # staff without a Schedule permission: the admin refuses them on its own
            return Schedule.objects.none()

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets + (self.state_fieldsets if obj else [])

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        if obj is None:
            return []
        shown = [field for _, options in self.state_fieldsets for field in options["fields"]]
        return shown + (["name"] if obj.builtin else [])  # a built-in keeps its name

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # a fresh class per request (modelform_factory)
        return form

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.builtin)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:  # a save refused after the form's checks (a race): rolled back, said
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change) -> None:
        if change:
            saved = services.schedule_update(schedule=obj, by=request.user, **form.changes)
        else:
            saved = services.schedule_create(by=request.user, **form.changes)
        obj.pk, obj._state.adding = saved.pk, False
        obj.refresh_from_db()

    def delete_model(self, request, obj) -> None:
        services.schedule_delete(schedule=obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        # delete_selected already refused built-ins (has_delete_permission); the service refuses them too.
        for schedule in queryset:
            try:
                services.schedule_delete(schedule=schedule, by=request.user)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Delete selected schedules", permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Django's confirm-then-delete, refused at once with a message when a built-in is selected."""
        builtins = [schedule.name for schedule in queryset if schedule.builtin]
        if builtins:
            text = f"Built-in schedules are never removed (pause them instead): {', '.join(builtins)}."
            self.message_user(request, text, messages.ERROR)
            return None
        return delete_confirmed(self, request, queryset)

    @admin.action(description="Enable (resume) selected schedules", permissions=["change"])
    def resume_selected(self, request, queryset) -> None:
        self._each(request, queryset, services.schedule_resume, "Resumed")

    @admin.action(description="Disable (pause) selected schedules", permissions=["change"])
    def pause_selected(self, request, queryset) -> None:
        self._each(request, queryset, services.schedule_pause, "Paused")

    @admin.action(description="Run selected schedules now", permissions=["change"])
    def run_now_selected(self, request, queryset) -> None:
        self._each(request, queryset, services.schedule_run_now, "Queued a run of")

    def _each(self, request, queryset, service, verb: str) -> None:
        """One service call per schedule: the others still go when one is refused; both are counted."""
        done, refused = [], []
        for schedule in queryset.order_by("name"):
            try:
                outcome = service(schedule=schedule, by=request.user)
            except DomainError as exc:
                refused.append(f"{schedule.name}: {exc}")
                continue
            done.append(schedule.name if isinstance(outcome, Schedule) else f"{schedule.name} (job #{outcome.pk})")
        if done:
            noun = "schedule" if len(done) == 1 else "schedules"
            self.message_user(request, f"{verb} {len(done)} {noun}: {', '.join(done)}.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"Refused {len(refused)}: {'; '.join(refused)}", messages.ERROR)

    @admin.display(description="rule")
    def rule(self, schedule: Schedule) -> str:
        return schedule.rule

    @admin.display(description="last outcome", ordering="last_run_at")
    def last_outcome(self, schedule: Schedule) -> str:
        if not getattr(schedule, "last_run_id", None):
            return "—"
        url = reverse("admin:jobs_job_change", args=[schedule.last_run_id])
        return format_html('<a href="{}">{} #{}</a>', url, _badge(schedule.last_run_status), schedule.last_run_id)

    @admin.display(description="state", ordering="paused_at")
    def state(self, schedule: Schedule) -> str:
        if not schedule.is_paused:
            return "enabled"
        by = f" by {schedule.paused_by}" if schedule.paused_by else ""
        return f"paused since {schedule.paused_at:%Y-%m-%d %H:%M:%S}{by}"

    @admin.display(description="console")
    def console_link(self, schedule: Schedule) -> str:
        url = reverse("jobs:schedule-detail", args=[schedule.name])
        return format_html('<a href="{}">open {} in the console</a>', url, schedule.name)

    @admin.display(description="next runs (preview of the rule)")
    def next_runs(self, schedule: Schedule) -> str:
        runs = services.schedule_next_runs(schedule=schedule)
        if not runs:
            return "— (no more firings)"
        note = " (paused: none is planted)" if schedule.is_paused else ""
        items = format_html_join("", "<li>{}</li>", ((_when(at, schedule.timezone),) for at in runs))
        return format_html('<ul class="plain-list">{}</ul>{}', items, note)

    @admin.display(description="latest runs")
    def latest_runs(self, schedule: Schedule) -> str:
        runs = selectors.schedule_runs(schedule=schedule)
        if not runs:
            return "— (never fired)"
        rows = format_html_join("", '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>', (
            (reverse("admin:jobs_job_change", args=[job.pk]), job.pk, job_badge_html(job),
             f"{job.scheduled_for:%Y-%m-%d %H:%M:%S} UTC" if job.scheduled_for else "run now",
             f"{job.started_at:%Y-%m-%d %H:%M:%S}" if job.started_at else "—")
            for job in runs
        ))  # fmt: skip
        head = "<tr><th>job</th><th>status</th><th>firing for</th><th>started</th></tr>"
        return format_html("<table>{}{}</table>", mark_safe(head), rows)
