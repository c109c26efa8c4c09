from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import NewestFirstPagination
from config.throttles import EnqueueThrottle
from jobs import selectors, services
from jobs.api.serializers import (
    JobAcceptedSerializer,
    JobDetailSerializer,
    JobEnqueueSerializer,
    JobSerializer,
    QueueSerializer,
)
from jobs.filters import JobFilter
from jobs.stats import queue_stats
from jobs.tracing import trace_id_from_traceparent


def accepted(job, request) -> Response:
    """202 with the job's id, status, trace id and where to poll it (also in `Location`)."""
    job.status_url = request.build_absolute_uri(reverse("api:job-detail", args=[job.pk]))
    data = JobAcceptedSerializer(job).data
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": job.status_url})


@extend_schema_view(get=extend_schema(operation_id="jobs_list", tags=["jobs"]))
class JobListEnqueueApi(generics.ListAPIView):
    """GET: the jobs you may see, newest first. POST: enqueue a job; 202 with its status URL."""

    serializer_class = JobSerializer
    pagination_class = NewestFirstPagination
    filterset_class = JobFilter
    throttle_classes = [EnqueueThrottle]

    def get_queryset(self):
        return selectors.job_list(user=self.request.user)

    @extend_schema(operation_id="job_enqueue", tags=["jobs"], request=JobEnqueueSerializer,
                   responses={202: JobAcceptedSerializer},
                   examples=[OpenApiExample("Sleep 5 s", request_only=True,
                                            value={"handler": "jobs.sleep", "args": {"seconds": 5}}),
                             OpenApiExample("In a minute, at most once", request_only=True,
                                            value={"handler": "jobs.noop", "delay": 60, "unique_key": "nightly"})])
    def post(self, request):
        serializer = JobEnqueueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.job_enqueue(
            **serializer.validated_data,
            requested_by=request.user,
            trace_id=trace_id_from_traceparent(request.headers.get("traceparent")),
        )
        return accepted(job, request)


class JobDetailApi(APIView):
    @extend_schema(operation_id="job_get", tags=["jobs"], responses=JobDetailSerializer)
    def get(self, request, pk):
        job = selectors.job_get(job_id=pk, user=request.user)
        return Response(JobDetailSerializer(job, context={"request": request}).data)


class JobRetryApi(APIView):
    @extend_schema(operation_id="job_retry", tags=["jobs"], request=None, responses={202: JobAcceptedSerializer})
    def post(self, request, pk):
        job = services.job_retry(job=selectors.job_get(job_id=pk, user=request.user), by=request.user)
        return accepted(job, request)


class JobCancelApi(APIView):
    @extend_schema(operation_id="job_cancel", tags=["jobs"], request=None, responses={202: JobAcceptedSerializer})
    def post(self, request, pk):
        job = services.job_cancel(job=selectors.job_get(job_id=pk, user=request.user), by=request.user)
        return accepted(job, request)


class QueueListApi(APIView):
    """Every queue with its backlog (due and delayed), jobs reserved and running, the age of its oldest
    due job, and whether it is paused, by whom and since when. Staff only."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(operation_id="queues_list", tags=["queues"], responses=QueueSerializer(many=True))
    def get(self, request):
        return Response(QueueSerializer(queue_stats(), many=True).data)


class QueuePauseApi(APIView):
    """Pause a queue on every cluster at once: running jobs finish, nothing is lost. Needs
    `jobs.pause_queue`. Idempotent."""

    @extend_schema(operation_id="queue_pause", tags=["queues"], request=None, responses=QueueSerializer)
    def post(self, request, name):
        services.queue_pause(name=name, by=request.user)
        return Response(_queue(name))


class QueueResumeApi(APIView):
    """Resume a paused queue: its jobs start again in their order. Needs `jobs.pause_queue`."""

    @extend_schema(operation_id="queue_resume", tags=["queues"], request=None, responses=QueueSerializer)
    def post(self, request, name):
        services.queue_resume(name=name, by=request.user)
        return Response(_queue(name))


def _queue(name: str) -> dict:
    return QueueSerializer(next(q for q in queue_stats() if q["queue"] == name)).data
