from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from config.fields import StrictCharField, StrictFloatField
from jobs.datetimes import check_offset
from jobs.models import Job, JobEvent
from jobs.selectors import job_wait_reason


class JobEnqueueSerializer(serializers.Serializer):
    handler = StrictCharField(max_length=200)
    args = serializers.DictField(required=False, default=dict)
    queue = StrictCharField(max_length=64, required=False)
    priority = serializers.IntegerField(required=False, min_value=-100, max_value=100)
    max_attempts = serializers.IntegerField(required=False, min_value=1, max_value=100)
    timeout = serializers.IntegerField(required=False, min_value=1)  # max: get_fields
    delay = StrictFloatField(required=False, min_value=0)  # max: get_fields
    run_after = serializers.DateTimeField(required=False, validators=[check_offset])
    unique_key = StrictCharField(required=False, max_length=200, allow_blank=False)
    deadline = serializers.DateTimeField(
        required=False, validators=[check_offset], help_text="not started by then: the job expires unrun"
    )

    def get_fields(self) -> dict:
        """The bounds that come from settings, read per request (and shown in the schema)."""
        fields = super().get_fields()
        fields["timeout"] = serializers.IntegerField(required=False, min_value=1, max_value=settings.JOBS_MAX_TIMEOUT)
        fields["delay"] = StrictFloatField(required=False, min_value=0, max_value=settings.JOBS_MAX_DELAY_SECONDS)
        return fields

    def validate(self, data: dict) -> dict:
        # A field we do not know is refused: a client sending an option this version lacks must not
        # believe it was applied.
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        if "delay" in data and "run_after" in data:
            raise serializers.ValidationError({"run_after": ["Give either delay or run_after, not both."]})
        return data


class JobAcceptedSerializer(serializers.Serializer):
    """The 202 answer to an enqueue: just what a client needs to follow the job (kept small: it is
    on the hot path)."""

    id = serializers.IntegerField()
    handler = serializers.CharField()
    queue = serializers.CharField()
    status = serializers.CharField()
    trace_id = serializers.CharField()
    run_after = serializers.DateTimeField()
    status_url = serializers.CharField()


class JobEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = JobEvent
        fields = ["at", "kind", "attempt", "actor", "message"]


class JobSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", default=None)
    status_url = serializers.SerializerMethodField()
    duration = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id", "handler", "args", "queue", "priority", "status", "attempts", "max_attempts", "timeout",
            "run_after", "deadline", "unique_key", "progress", "result", "error", "requested_by", "trace_id", "worker",
            "cancel_requested_at", "created_at", "started_at", "finished_at", "heartbeat_at", "duration",
            "status_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_status_url(self, job: Job) -> str:
        path = reverse("api:job-detail", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_duration(self, job: Job) -> float | None:
        return job.duration.total_seconds() if job.duration is not None else None


class JobDetailSerializer(JobSerializer):
    events = serializers.SerializerMethodField()
    waiting_for = serializers.SerializerMethodField(help_text="why a queued job has not started yet, if held back")

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "waiting_for", "events"]
        read_only_fields = fields

    def get_waiting_for(self, job: Job) -> str | None:
        return job_wait_reason(job=job)

    def get_events(self, job: Job) -> list[dict]:
        return JobEventSerializer(job.events.select_related("actor"), many=True).data


class QueueSerializer(serializers.Serializer):
    """A queue as operators see it: its backlog, what runs, and whether it is paused (by whom, since when)."""

    name = serializers.CharField(source="queue")
    weight = serializers.IntegerField()
    queued = serializers.IntegerField(source="due", help_text="due now")
    delayed = serializers.IntegerField()
    reserved = serializers.IntegerField()
    running = serializers.IntegerField()
    oldest_queued_age_seconds = serializers.FloatField(source="oldest_age_seconds", allow_null=True)
    paused = serializers.BooleanField()
    paused_at = serializers.DateTimeField(allow_null=True)
    paused_by = serializers.CharField(allow_null=True)
    concurrency_limit = serializers.IntegerField(allow_null=True)
