"""/api/v1/schedules/: list, create, detail, edit (PATCH), remove, and pause, resume, run now. Each
view parses, calls one service or selector, and shows the result; errors are the services' own."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import StrictPageSizeMixin
from jobs import selectors, services
from jobs.api.idempotency import idempotent
from jobs.api.schedule_serializers import ScheduleDetailSerializer, ScheduleSerializer, ScheduleWriteSerializer
from jobs.api.serializers import JobAcceptedSerializer, api_url
from jobs.api.views import IDEMPOTENCY_KEY, accepted
from jobs.models import Schedule


class ByNamePagination(StrictPageSizeMixin, CursorPagination):
    ordering = ("name",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _shown(schedule, request, *, code: int = status.HTTP_200_OK, headers: dict | None = None) -> Response:
    return Response(ScheduleDetailSerializer(schedule, context={"request": request}).data, status=code, headers=headers)


@extend_schema_view(get=extend_schema(operation_id="schedules_list", tags=["schedules"]))
class ScheduleListCreateApi(generics.ListAPIView):
    """GET: every schedule, by name (staff with a schedule permission). POST: create one (jobs.add_schedule);
    201 with the schedule, its first firing planted."""

    serializer_class = ScheduleSerializer
    pagination_class = ByNamePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, with no user
            return Schedule.objects.none()
        return selectors.schedule_list(user=self.request.user)

    @extend_schema(operation_id="schedule_create", tags=["schedules"], request=ScheduleWriteSerializer,
                   responses={201: ScheduleDetailSerializer}, parameters=[IDEMPOTENCY_KEY],
                   examples=[OpenApiExample("Nightly at 3, Paris time", request_only=True, value={
                       "name": "nightly-report", "handler": "jobs.noop", "cron": "0 3 * * *",
                       "timezone": "Europe/Paris"})])  # fmt: skip
    @idempotent
    def post(self, request):
        serializer = ScheduleWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        schedule = services.schedule_create(by=request.user, **serializer.validated_data)
        location = api_url(request, "api:schedule-detail", schedule.name)
        return _shown(schedule, request, code=status.HTTP_201_CREATED, headers={"Location": location})


class ScheduleDetailApi(APIView):
    @extend_schema(operation_id="schedule_get", tags=["schedules"], responses=ScheduleDetailSerializer)
    def get(self, request, name):
        return _shown(selectors.schedule_get(name=name, user=request.user), request)

    @extend_schema(operation_id="schedule_update", tags=["schedules"], request=ScheduleWriteSerializer,
                   responses=ScheduleDetailSerializer)
    def patch(self, request, name):
        schedule = selectors.schedule_get(name=name, user=request.user)
        serializer = ScheduleWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return _shown(services.schedule_update(schedule=schedule, by=request.user, **serializer.validated_data), request)

    @extend_schema(operation_id="schedule_delete", tags=["schedules"], responses={204: None})
    def delete(self, request, name):
        services.schedule_delete(schedule=selectors.schedule_get(name=name, user=request.user), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchedulePauseApi(APIView):
    """Stop firing (jobs.change_schedule): the planted next firing is removed. Idempotent."""

    @extend_schema(operation_id="schedule_pause", tags=["schedules"], request=None, responses=ScheduleDetailSerializer)
    def post(self, request, name):
        schedule = selectors.schedule_get(name=name, user=request.user)
        return _shown(services.schedule_pause(schedule=schedule, by=request.user), request)


class ScheduleResumeApi(APIView):
    """Fire again from the next tick (jobs.change_schedule). Idempotent."""

    @extend_schema(operation_id="schedule_resume", tags=["schedules"], request=None, responses=ScheduleDetailSerializer)
    def post(self, request, name):
        schedule = selectors.schedule_get(name=name, user=request.user)
        return _shown(services.schedule_resume(schedule=schedule, by=request.user), request)


class ScheduleRunNowApi(APIView):
    """Enqueue one firing now (jobs.change_schedule); 202 with the job. 409 when the overlap policy is
    skip and a run is still going."""

    @extend_schema(operation_id="schedule_run_now", tags=["schedules"], request=None,
                   responses={202: JobAcceptedSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request, name):
        schedule = selectors.schedule_get(name=name, user=request.user)
        return accepted(services.schedule_run_now(schedule=schedule, by=request.user), request)
