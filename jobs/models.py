"""The job record of truth. django-q2 only carries a job's id to a worker; everything a user or an
operator sees about a job lives here."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class JobQuerySet(models.QuerySet["Job"]):
    def queued(self) -> JobQuerySet:
        return self.filter(status=Job.Status.QUEUED)

    def running(self) -> JobQuerySet:
        return self.filter(status=Job.Status.RUNNING)

    def active(self) -> JobQuerySet:
        return self.filter(status__in=Job.ACTIVE)

    def due_for_dispatch(self, *, now: datetime) -> JobQuerySet:
        """Queued jobs whose time has come and that no broker holds yet, in claim order."""
        return self.filter(status=Job.Status.QUEUED, dispatched_at__isnull=True, run_after__lte=now).order_by(
            "-priority", "run_after", "id"
        )

    def stale(self, *, older_than: datetime) -> JobQuerySet:
        """Running jobs whose worker stopped beating: it died, or its machine did."""
        return self.filter(status=Job.Status.RUNNING, heartbeat_at__lt=older_than)

    def undelivered(self, *, dispatched_before: datetime) -> JobQuerySet:
        """Queued jobs handed to the broker long ago and never claimed: the broker may have lost them."""
        return self.filter(status=Job.Status.QUEUED, dispatched_at__lt=dispatched_before)

    def visible_to(self, user) -> JobQuerySet:
        return self if user.is_staff else self.filter(requested_by=user)


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    handler = models.CharField(max_length=200)
    args = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=64, default="default")
    priority = models.SmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)

    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    timeout = models.PositiveIntegerField(help_text="seconds one attempt may run")
    run_after = models.DateTimeField(default=timezone.now)
    unique_key = models.CharField(max_length=200, null=True, blank=True)
    concurrency_key = models.CharField(max_length=200, null=True, blank=True)
    concurrency_limit = models.PositiveIntegerField(null=True, blank=True)

    progress = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    trace_id = models.CharField(max_length=32, db_index=True)
    worker = models.CharField(max_length=200, blank=True, default="")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("retry_job", "Can retry jobs"), ("cancel_job", "Can cancel jobs")]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="job_created_idx"),
            models.Index(fields=["status", "-created_at"], name="job_status_created_idx"),
            models.Index(fields=["handler", "-created_at"], name="job_handler_created_idx"),
            models.Index(fields=["requested_by", "-created_at"], name="job_owner_created_idx"),
            models.Index(fields=["status", "finished_at"], name="job_status_finished_idx"),
            # What the pump scans: queued jobs not yet handed to a broker, in claim order.
            models.Index(
                fields=["-priority", "run_after", "id"],
                name="job_due_idx",
                condition=Q(status="queued", dispatched_at__isnull=True),
            ),
            models.Index(fields=["queue", "created_at"], name="job_queued_idx", condition=Q(status="queued")),
            models.Index(fields=["heartbeat_at"], name="job_running_idx", condition=Q(status="running")),
            models.Index(
                fields=["concurrency_key"],
                name="job_concurrency_idx",
                condition=Q(status="running", concurrency_key__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "succeeded", "failed", "cancelled"]), name="job_status_valid"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="job_max_attempts_positive"),
            models.CheckConstraint(condition=Q(timeout__gte=1), name="job_timeout_positive"),
            models.UniqueConstraint(
                fields=["unique_key"],
                condition=Q(status__in=["queued", "running"], unique_key__isnull=False),
                name="job_unique_key_while_active",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.handler} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.CANCELLED)

    @property
    def can_cancel(self) -> bool:
        return self.status in self.ACTIVE and not (self.status == self.Status.RUNNING and self.cancel_requested_at)


class JobEvent(models.Model):
    """Append-only history: one row per change of a job's state after its creation, and the lines
    a handler logged. The job row itself records the creation (created_at, requested_by)."""

    class Kind(models.TextChoices):
        STARTED = "started"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        RETRY_SCHEDULED = "retry_scheduled"
        CANCEL_REQUESTED = "cancel_requested"
        CANCELLED = "cancelled"
        RETRIED = "retried"
        REQUEUED = "requeued"
        DEFERRED = "deferred"
        LOG = "log"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    attempt = models.PositiveIntegerField(default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["job", "at"], name="jobevent_job_at_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.message[:60]}"
