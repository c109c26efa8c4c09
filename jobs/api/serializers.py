from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.fields import RefuseUnknownFields, StrictCharField, StrictFloatField
from jobs.datetimes import check_offset
from jobs.filters import JobFilter
from jobs.models import Job, JobEvent
from jobs.selectors import job_dependencies, job_wait_reason
from jobs.services.dependencies import MAX_DEPENDENCIES

JOB_ID_MAX = 2**63 - 1  # a bigint: a larger id is a 400, not a database error


def api_url(request, name: str, *args) -> str:
    """An API route's absolute URL for `request`; its path alone without one (a command, a test)."""
    path = reverse(name, args=args)
    return request.build_absolute_uri(path) if request else path


class JobEnqueueSerializer(RefuseUnknownFields, serializers.Serializer):
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
    depends_on = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=JOB_ID_MAX), required=False, max_length=MAX_DEPENDENCIES,
        help_text="ids of jobs that must all succeed first: the job waits, and is cancelled if one of them fails",
    )

    def get_fields(self) -> dict:
        """The bounds that come from settings, read per request (and shown in the schema)."""
        fields = super().get_fields()
        fields["timeout"] = serializers.IntegerField(required=False, min_value=1, max_value=settings.JOBS_MAX_TIMEOUT)
        fields["delay"] = StrictFloatField(required=False, min_value=0, max_value=settings.JOBS_MAX_DELAY_SECONDS)
        return fields

    def validate(self, data: dict) -> dict:
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
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)

    class Meta:
        model = JobEvent
        fields = ["at", "kind", "attempt", "actor", "message"]


class JobSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", default=None, allow_null=True)
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
        return api_url(self.context.get("request"), "api:job-detail", job.pk)

    def get_duration(self, job: Job) -> float | None:
        return job.duration.total_seconds() if job.duration is not None else None


class JobDetailSerializer(JobSerializer):
    events = serializers.SerializerMethodField()
    waiting_for = serializers.SerializerMethodField(help_text="why a queued job has not started yet, if held back")
    depends_on = serializers.SerializerMethodField(help_text="ids of the jobs this one waits for")
    dependants = serializers.SerializerMethodField(help_text="ids of the jobs that wait for this one")
    schedule = serializers.SerializerMethodField(help_text="the name of the schedule this job is a firing of")

    class Meta(JobSerializer.Meta):
        fields = [
            *JobSerializer.Meta.fields, "schedule", "scheduled_for", "waiting_for", "depends_on", "dependants", "events"
        ]
        read_only_fields = fields

    def to_representation(self, job: Job) -> dict:
        request = self.context.get("request")
        self._links = job_dependencies(job=job, user=request.user if request else None)
        return super().to_representation(job)

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_depends_on(self, job: Job) -> list[int]:
        return [upstream.pk for upstream in self._links[0]]

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_dependants(self, job: Job) -> list[int]:
        return [downstream.pk for downstream in self._links[1]]

    def get_schedule(self, job: Job) -> str | None:
        return job.schedule.name if job.schedule_id else None  # a read only for a firing

    def get_waiting_for(self, job: Job) -> str | None:
        return job_wait_reason(job=job)

    def get_events(self, job: Job) -> list[dict]:
        return JobEventSerializer(job.events.select_related("actor"), many=True).data


class QueueSerializer(serializers.Serializer):
    """A queue as operators see it: its backlog, what runs, and whether it is paused (by whom, since when)."""

    name = serializers.CharField(source="queue")
    weight = serializers.IntegerField()
    waiting = serializers.IntegerField(help_text="waiting for the jobs they depend on")
    queued = serializers.IntegerField(source="due", help_text="due now")
    delayed = serializers.IntegerField()
    reserved = serializers.IntegerField()
    running = serializers.IntegerField()
    oldest_queued_age_seconds = serializers.FloatField(source="oldest_age_seconds", allow_null=True)
    paused = serializers.BooleanField()
    paused_at = serializers.DateTimeField(allow_null=True)
    paused_by = serializers.CharField(allow_null=True)
    concurrency_limit = serializers.IntegerField(allow_null=True)


_REF = {"type": "string", "minLength": 1, "maxLength": 64}


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1, "maximum": JOB_ID_MAX}, _REF]})
class DependencyField(serializers.Field):
    """In a batch, a dependency is a job id (an integer) or the `ref` of another item (a string)."""

    default_error_messages = {"invalid": "Give a job id (an integer) or the ref of an item of this batch (a string)."}

    def to_internal_value(self, data):
        if isinstance(data, str) and 0 < len(data) <= 64:
            return data
        if isinstance(data, int) and not isinstance(data, bool) and 0 < data <= JOB_ID_MAX:
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


class JobBatchItemSerializer(JobEnqueueSerializer):
    """One job of a batch: what POST /jobs/ takes, plus a `ref` naming it for the `depends_on` of the others."""

    ref = StrictCharField(required=False, max_length=64, help_text="a name for this item, unique in the batch")
    depends_on = serializers.ListField(
        child=DependencyField(), required=False, max_length=MAX_DEPENDENCIES,
        help_text="job ids and refs of other items of this batch that must all succeed first",
    )


class JobBatchSerializer(RefuseUnknownFields, serializers.Serializer):
    """`{"jobs": [...]}`: up to settings.JOBS_BATCH_MAX_JOBS items, each what POST /jobs/ takes (and a
    `ref`). Errors name the item: `{"jobs": {"3": {"args": ["..."]}}}`."""

    jobs = serializers.ListField(child=JobBatchItemSerializer(), min_length=1)

    def validate_jobs(self, jobs: list[dict]) -> list[dict]:
        if len(jobs) > settings.JOBS_BATCH_MAX_JOBS:
            raise serializers.ValidationError(f"Give at most {settings.JOBS_BATCH_MAX_JOBS} jobs per batch.")
        return jobs



class JobBatchAcceptedSerializer(serializers.Serializer):
    trace_id = serializers.CharField()
    jobs = JobAcceptedSerializer(many=True)


_STATUSES = {"type": "string", "enum": list(Job.Status.values)}


@extend_schema_field({"oneOf": [_STATUSES, {"type": "array", "items": _STATUSES, "minItems": 1}]})
class StatusesField(serializers.ListField):
    """One status, or a list of them."""

    child = serializers.ChoiceField(choices=Job.Status.choices)

    def to_internal_value(self, data):
        return super().to_internal_value([data] if isinstance(data, str) else data)


class JobMatchSerializer(serializers.Serializer):
    """A filter body for bulk retry and cancel, read by the job list's rules (jobs.filters.JobFilter):
    `status` (one or a list), `handler`, `queue`, `trace_id`, `created_after`, `created_before`; at
    least one. The view passes the jobs the user may see as context["jobs"]; validated_data["jobs"] is
    the part that matches."""

    FILTERS = ("status", "handler", "queue", "trace_id", "created_after", "created_before")

    status = StatusesField(required=False, allow_empty=False)
    handler = StrictCharField(required=False)
    queue = StrictCharField(required=False)
    trace_id = StrictCharField(required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)

    def to_internal_value(self, data) -> dict:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object of filters."]})
        unknown = sorted(set(data) - set(self.FILTERS))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        if hasattr(data, "getlist"):  # a form body: status may repeat
            data = {name: data.getlist(name) if name == "status" else data.get(name) for name in data}
        if not data:
            raise serializers.ValidationError(
                {"non_field_errors": [f"Give at least one filter: {', '.join(self.FILTERS)}."]}
            )
        # Each field's own type and format first (a blank filter is an error, not "no filter": it
        # would widen the bulk action); then the list's rules, on the values as sent.
        super().to_internal_value(data)
        query = dict(data)
        if isinstance(query.get("status"), str):
            query["status"] = [query["status"]]
        filterset = JobFilter(data=query, queryset=self.context["jobs"])
        if not filterset.is_valid():
            raise serializers.ValidationError({name: list(messages) for name, messages in filterset.errors.items()})
        return {"jobs": filterset.qs}


class BulkOutcomeSerializer(serializers.Serializer):
    """What a bulk retry or cancel did: `matched` jobs (at most `limit` tried), `done`, and the
    others by reason."""

    matched = serializers.IntegerField()
    limit = serializers.IntegerField()
    done = serializers.IntegerField()
    skipped = serializers.DictField(child=serializers.IntegerField(), help_text="reason: count")
