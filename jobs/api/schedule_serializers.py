"""Schedules over the API: the input of a create or an edit (types only: the service validates the
rest, field by field), and how a schedule is shown."""

from __future__ import annotations

from rest_framework import serializers

from config.fields import RefuseUnknownFields, StrictCharField
from jobs.api.serializers import api_url
from jobs.datetimes import check_offset
from jobs.models import Job, Schedule
from jobs.selectors import schedule_runs
from jobs.services import schedule_next_runs


class ScheduleWriteSerializer(RefuseUnknownFields, serializers.Serializer):
    """Every editable field; on PATCH, only those given. A null option falls back to the handler's default."""

    name = StrictCharField(max_length=100)
    description = StrictCharField(required=False, allow_blank=True)
    handler = StrictCharField(max_length=200)
    args = serializers.DictField(required=False)
    queue = StrictCharField(max_length=64, required=False, allow_null=True)
    priority = serializers.IntegerField(required=False, allow_null=True, min_value=-100, max_value=100)
    timeout = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    max_attempts = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=100)
    deadline_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    kind = serializers.ChoiceField(choices=Schedule.Kind.choices, required=False)
    cron = StrictCharField(max_length=200, required=False, allow_blank=True)
    timezone = StrictCharField(max_length=64, required=False)
    interval_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    run_at = serializers.DateTimeField(required=False, allow_null=True, validators=[check_offset])
    catch_up = serializers.ChoiceField(choices=Schedule.CatchUp.choices, required=False)
    catch_up_limit = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    overlap = serializers.ChoiceField(choices=Schedule.Overlap.choices, required=False)
    jitter_seconds = serializers.IntegerField(required=False, min_value=0, max_value=3600)



class ScheduleSerializer(serializers.ModelSerializer):
    paused = serializers.BooleanField(source="is_paused")
    paused_by = serializers.CharField(source="paused_by.username", default=None, allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    last_run_status = serializers.CharField(
        read_only=True, default=None, allow_null=True, help_text="the latest started firing's"
    )
    last_run_at = serializers.DateTimeField(read_only=True, default=None, allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = [
            "name", "description", "handler", "args", "queue", "priority", "timeout", "max_attempts",
            "deadline_seconds", "kind", "cron", "timezone", "interval_seconds", "run_at", "catch_up",
            "catch_up_limit", "overlap", "jitter_seconds", "rule", "paused", "paused_at", "paused_by", "builtin",
            "next_run_at", "last_run_status", "last_run_at", "created_by", "created_at", "updated_at", "url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_url(self, schedule: Schedule) -> str:
        return api_url(self.context.get("request"), "api:schedule-detail", schedule.name)


class ScheduleRunSerializer(serializers.ModelSerializer):
    """One firing: its job, and its status as the outcome."""

    class Meta:
        model = Job
        fields = ["id", "status", "scheduled_for", "run_after", "started_at", "finished_at", "attempts", "error"]
        read_only_fields = fields


class ScheduleDetailSerializer(ScheduleSerializer):
    next_runs = serializers.SerializerMethodField()
    last_runs = serializers.SerializerMethodField()

    class Meta(ScheduleSerializer.Meta):
        fields = [*ScheduleSerializer.Meta.fields, "next_runs", "last_runs"]
        read_only_fields = fields

    def get_next_runs(self, schedule: Schedule) -> list[str]:
        if schedule.is_paused:
            return []
        return [serializers.DateTimeField().to_representation(at) for at in schedule_next_runs(schedule=schedule)]

    def get_last_runs(self, schedule: Schedule) -> list[dict]:
        return ScheduleRunSerializer(schedule_runs(schedule=schedule), many=True).data
