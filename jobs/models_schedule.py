"""A schedule: a handler, its arguments and run options, and a rule saying when it fires (cron with a
time zone, a fixed interval, or once). Each firing is an ordinary Job linked back to it; the
services in jobs/services/schedules.py and schedule_firing.py are the only writers."""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now


class Schedule(models.Model):
    class Kind(models.TextChoices):
        CRON = "cron"
        INTERVAL = "interval"
        ONCE = "once"

    class CatchUp(models.TextChoices):
        SKIP = "skip"  # a firing missed by more than one period is not run
        ONCE = "once"  # the missed period fires once
        ALL = "all"  # every missed firing runs, up to catch_up_limit

    class Overlap(models.TextChoices):
        SKIP = "skip"  # the new firing ends cancelled while the previous one still runs
        ALLOW = "allow"
        CANCEL = "cancel"  # the previous run is asked to stop; the new one runs

    name = models.SlugField(max_length=100, unique=True, help_text="the operator's handle in commands and URLs")
    description = models.TextField(blank=True, default="")
    handler = models.CharField(max_length=200)
    args = models.JSONField(default=dict, blank=True)
    # Run options: null falls back to the handler's defaults, then the settings', as for an enqueue.
    queue = models.CharField(max_length=64, null=True, blank=True)
    priority = models.SmallIntegerField(null=True, blank=True)
    timeout = models.PositiveIntegerField(null=True, blank=True)
    max_attempts = models.PositiveIntegerField(null=True, blank=True)
    deadline_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="a firing not started this long after its time expires"
    )

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CRON)
    cron = models.CharField(max_length=200, blank=True, default="", help_text="5 fields, or 6 with seconds last")
    timezone = models.CharField(max_length=64, default="UTC")
    interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    run_at = models.DateTimeField(null=True, blank=True)
    catch_up = models.CharField(max_length=8, choices=CatchUp.choices, default=CatchUp.ONCE)
    catch_up_limit = models.PositiveIntegerField(default=10)
    overlap = models.CharField(max_length=8, choices=Overlap.choices, default=Overlap.SKIP)
    jitter_seconds = models.PositiveIntegerField(default=0)

    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    builtin = models.BooleanField(default=False, help_text="ensured by the system: may be paused or edited, not removed")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    next_run_at = models.DateTimeField(null=True, blank=True, help_text="the planted firing's time")

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["next_run_at"], name="schedule_next_run_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["cron", "interval", "once"]), name="schedule_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind="cron") | ~Q(cron=""), name="schedule_cron_has_expression"
            ),
            models.CheckConstraint(
                condition=~Q(kind="interval") | Q(interval_seconds__gte=1), name="schedule_interval_has_seconds"
            ),
            models.CheckConstraint(condition=~Q(kind="once") | Q(run_at__isnull=False), name="schedule_once_has_time"),
            models.CheckConstraint(condition=Q(catch_up__in=["skip", "once", "all"]), name="schedule_catch_up_valid"),
            models.CheckConstraint(condition=Q(overlap__in=["skip", "allow", "cancel"]), name="schedule_overlap_valid"),
            models.CheckConstraint(condition=Q(catch_up_limit__gte=1), name="schedule_catch_up_limit_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def rule(self) -> str:
        """The firing rule in words, for lists."""
        if self.kind == self.Kind.CRON:
            return f"cron {self.cron} ({self.timezone})"
        if self.kind == self.Kind.INTERVAL:
            return f"every {self.interval_seconds} s"
        return f"once at {self.run_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if self.run_at else "once"
