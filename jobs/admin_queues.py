"""Admin for queues (pause, resume, concurrency limit) and the clusters serving them. Loaded by
`jobs.admin`. Every change goes through the queue services, under the `jobs.pause_queue` permission."""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages

from jobs import services
from jobs.exceptions import InvalidJob, PermissionDenied
from jobs.models import Cluster, Queue
from jobs.stats import queue_stats

# django-q2 only executes here: its schedules, results and broker rows are not ours (our queue is the
# Job table, its scheduler is off), so its admin pages would show nothing true.
for name in ("Schedule", "Success", "Failure"):
    model = apps.get_model("django_q", name)
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class QueueForm(forms.ModelForm):
    class Meta:
        model = Queue
        fields = ["concurrency_limit"]

    def clean_concurrency_limit(self) -> int | None:
        try:
            return services.queue_limit_validate(self.cleaned_data["concurrency_limit"])
        except InvalidJob as exc:
            raise forms.ValidationError(exc.errors["concurrency_limit"]) from None


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    form = QueueForm
    list_display = ["name", "weight", "state", "depth", "concurrency_limit"]
    fields = ["name", "concurrency_limit", "paused_at", "paused_by"]
    readonly_fields = ["name", "paused_at", "paused_by"]
    actions = ["pause_selected", "resume_selected"]

    def changelist_view(self, request, extra_context=None):
        # Every configured queue has a row to act on, even before anyone touched it.
        Queue.objects.bulk_create([Queue(name=name) for name in settings.JOBS_QUEUES], ignore_conflicts=True)
        self._stats = {row["queue"]: row for row in queue_stats()}
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("jobs.pause_queue")

    def has_pause_permission(self, request) -> bool:
        return request.user.has_perm("jobs.pause_queue")

    def save_model(self, request, obj, form, change) -> None:
        services.queue_set_limit(name=obj.name, limit=obj.concurrency_limit, by=request.user)

    @admin.display(description="weight")
    def weight(self, queue: Queue) -> int:
        return settings.JOBS_QUEUE_WEIGHTS.get(queue.name, 1)

    @admin.display(description="state")
    def state(self, queue: Queue) -> str:
        if not queue.is_paused:
            return "running"
        by = f" by {queue.paused_by}" if queue.paused_by else ""
        return f"paused since {queue.paused_at:%Y-%m-%d %H:%M:%S}{by}"

    @admin.display(description="queued / reserved / running")
    def depth(self, queue: Queue) -> str:
        row = getattr(self, "_stats", {}).get(queue.name)
        return f"{row['due']} / {row['reserved']} / {row['running']}" if row else "—"

    @admin.action(description="Pause selected queues", permissions=["pause"])
    def pause_selected(self, request, queryset) -> None:
        self._each(request, queryset, services.queue_pause, "Paused")

    @admin.action(description="Resume selected queues", permissions=["pause"])
    def resume_selected(self, request, queryset) -> None:
        self._each(request, queryset, services.queue_resume, "Resumed")

    def _each(self, request, queryset, action, verb: str) -> None:
        try:
            names = [action(name=queue.name, by=request.user).name for queue in queryset]
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{verb} {', '.join(names)}.", messages.SUCCESS)


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["id", "host", "workers", "queues", "started_at", "seen_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
