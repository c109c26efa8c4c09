"""The job record of truth, and the queue itself: django-q2's pusher takes due rows from `jobs_job`
through `jobs.broker.JobTableBroker`; everything a user or an operator sees about a job lives here."""

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

    def in_flight(self) -> JobQuerySet:
        """Reserved by a cluster or running: what counts against concurrency limits."""
        return self.filter(status__in=Job.IN_FLIGHT)

    def stale(self, *, older_than: datetime) -> JobQuerySet:
        """Running jobs whose worker stopped beating: it died, or its machine did."""
        return self.filter(status=Job.Status.RUNNING, heartbeat_at__lt=older_than)

    def visible_to(self, user) -> JobQuerySet:
        return self if user.is_staff else self.filter(requested_by=user)


# Index and constraint conditions, spelled with literals so migrations stay stable.
STATUSES = ["waiting", "queued", "reserved", "running", "succeeded", "failed", "cancelled", "expired"]
ACTIVE = ["waiting", "queued", "reserved", "running"]
QUEUED = Q(status="queued")
IN_FLIGHT = Q(status__in=["reserved", "running"])


class Job(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting"  # for the jobs it depends on (JobDependency): not due, never claimed
        QUEUED = "queued"
        RESERVED = "reserved"  # taken by a cluster's pusher, waiting in its buffer for a free worker
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        EXPIRED = "expired"  # not started by its deadline: never ran

    IN_FLIGHT = (Status.RESERVED, Status.RUNNING)
    ACTIVE = (Status.WAITING, Status.QUEUED, *IN_FLIGHT)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.EXPIRED)
    RETRYABLE = (Status.FAILED, Status.CANCELLED, Status.EXPIRED)

    handler = models.CharField(max_length=200)
    args = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=64, default="default")
    priority = models.SmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)

    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    timeout = models.PositiveIntegerField(help_text="seconds one attempt may run")
    run_after = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(null=True, blank=True, help_text="not started by then: expired, never run")
    unique_key = models.CharField(max_length=200, null=True, blank=True)
    concurrency_key = models.CharField(max_length=200, null=True, blank=True)
    concurrency_limit = models.PositiveIntegerField(null=True, blank=True)

    progress = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)

    # No index of their own for either: job_owner_created_idx leads with requested_by, and job_trace_idx
    # is a plain btree (trace ids are matched exactly; db_index would add a LIKE index on PostgreSQL).
    # Every index is written on each insert and status change, which is most of what a job costs.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs",
        db_index=False,
    )
    trace_id = models.CharField(max_length=32)
    # The span id of the enqueue's span when tracing is on: each attempt's span is its child.
    trace_parent = models.CharField(max_length=16, blank=True, default="")
    reserved_by = models.CharField(max_length=200, blank=True, default="", help_text="the cluster holding it")
    worker = models.CharField(max_length=200, blank=True, default="")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # Set when a job that depends on this one is enqueued: only then does its end look for dependants,
    # so a job without any pays nothing (jobs.services.dependencies).
    has_dependants = models.BooleanField(default=False)
    # A firing of a schedule: its nominal time (null for a run-now), one job per (schedule, time).
    schedule = models.ForeignKey(  # indexed by job_schedule_started_idx, which leads with it
        "jobs.Schedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs", db_index=False
    )
    scheduled_for = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    reserved_at = models.DateTimeField(null=True, blank=True)
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
            models.Index(fields=["trace_id"], name="job_trace_idx"),
            models.Index(fields=["status", "finished_at"], name="job_status_finished_idx"),
            # The claim: equality on queue, then exactly its ORDER BY (priority DESC, run_after, id).
            models.Index(fields=["queue", "-priority", "run_after", "id"], name="job_claim_idx", condition=QUEUED),
            models.Index(fields=["deadline"], name="job_deadline_idx", condition=QUEUED & Q(deadline__isnull=False)),
            models.Index(fields=["heartbeat_at"], name="job_running_idx", condition=Q(status="running")),
            # What the claim counts against limits: jobs in flight per cluster, queue and concurrency key,
            # and starts per handler in a rate window.
            models.Index(fields=["reserved_by"], name="job_inflight_cluster_idx", condition=IN_FLIGHT),
            models.Index(fields=["queue"], name="job_inflight_queue_idx", condition=IN_FLIGHT),
            models.Index(
                fields=["concurrency_key"],
                name="job_concurrency_idx",
                condition=IN_FLIGHT & Q(concurrency_key__isnull=False),
            ),
            models.Index(
                fields=["handler", "reserved_at"], name="job_started_idx", condition=Q(reserved_at__isnull=False)
            ),
            # A schedule's latest runs (its list's last outcome, its page's history).
            models.Index(
                fields=["schedule", "-started_at"], name="job_schedule_started_idx", condition=Q(schedule__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=STATUSES), name="job_status_valid"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="job_max_attempts_positive"),
            models.CheckConstraint(condition=Q(timeout__gte=1), name="job_timeout_positive"),
            models.UniqueConstraint(
                fields=["unique_key"],
                condition=Q(status__in=ACTIVE, unique_key__isnull=False),
                name="job_unique_key_while_active",
            ),
            # Once per firing, whatever the number of clusters: the planting INSERTs conflict here.
            models.UniqueConstraint(
                fields=["schedule", "scheduled_for"],
                condition=Q(schedule__isnull=False, scheduled_for__isnull=False),
                name="job_one_per_firing",
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
        return self.status in self.RETRYABLE

    @property
    def can_cancel(self) -> bool:
        return self.status in self.ACTIVE and not (self.status == self.Status.RUNNING and self.cancel_requested_at)


class JobDependency(models.Model):
    """`job` waits for `depends_on`: it becomes due once all its upstream jobs succeeded, and ends
    CANCELLED when one of them fails for good, is cancelled or expires. Written only at enqueue."""

    # Indexed by the unique pair and the downstream index, which lead with each of them.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="upstream_links", db_index=False)
    depends_on = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="downstream_links", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "depends_on"], name="jobdependency_unique_pair")]
        indexes = [models.Index(fields=["depends_on", "job"], name="jobdependency_downstream_idx")]

    def __str__(self) -> str:
        return f"#{self.job_id} after #{self.depends_on_id}"


class JobEvent(models.Model):
    """Append-only history: one row per change of a job's state after its creation, and the lines
    a handler logged. The job row itself records the creation (created_at, requested_by)."""

    class Kind(models.TextChoices):
        RELEASED = "released"  # a waiting job's dependencies all succeeded: it is queued
        STARTED = "started"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        RETRY_SCHEDULED = "retry_scheduled"
        CANCEL_REQUESTED = "cancel_requested"
        CANCELLED = "cancelled"
        RETRIED = "retried"
        EXPIRED = "expired"
        REQUEUED = "requeued"
        DEFERRED = "deferred"
        LOG = "log"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events", db_index=False)  # jobevent_job_at_idx
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


class Queue(models.Model):
    """Operator state of a queue, shared by every cluster: paused or not, and its concurrency limit.
    A queue without a row is running and unlimited."""

    name = models.CharField(max_length=64, primary_key=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    concurrency_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="at most this many of its jobs reserved or running, over all clusters"
    )

    class Meta:
        ordering = ["name"]
        permissions = [("pause_queue", "Can pause and resume queues")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class Cluster(models.Model):
    """A running `qcluster`, as its pusher last reported it. A cluster not seen for
    JOBS_STALE_SECONDS is dead: the jobs it had reserved go back to the queue."""

    id = models.CharField(max_length=200, primary_key=True)  # host:pid of the cluster's sentinel
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    workers = models.PositiveIntegerField()
    queues = models.JSONField(default=list)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id


class IdempotencyRecord(models.Model):
    """The answer given to a POST that carried an `Idempotency-Key`, stored in the transaction that did
    the work, so a retried request is answered with it instead of doing the work twice. One row per
    user and key; rows older than settings.JOBS_IDEMPOTENCY_SECONDS are ignored and pruned."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the method, path and body")
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True, blank=True)
    location = models.CharField(max_length=2000, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_per_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


from jobs.models_schedule import Schedule  # noqa: E402  (its own module: this one stays small)

__all__ = ["Cluster", "IdempotencyRecord", "Job", "JobEvent", "Queue", "Schedule"]
