from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import NewestFirstPagination
from config.throttles import EnqueueThrottle
from jobs import selectors, services
from jobs.api.idempotency import HEADER, idempotent
from jobs.api.serializers import (
    BulkOutcomeSerializer,
    JobAcceptedSerializer,
    JobBatchAcceptedSerializer,
    JobBatchSerializer,
    JobDetailSerializer,
    JobEnqueueSerializer,
    JobMatchSerializer,
    JobSerializer,
    QueueSerializer,
)
from jobs.filters import JobFilter
from jobs.stats import queue_stats
from jobs.tracing import trace_id_from_traceparent


IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
    description="1-255 printable characters. The same key again (same user, within JOBS_IDEMPOTENCY_SECONDS) "
    "replays the first answer and does nothing; with another body it is a 422.",
)  # fmt: skip


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
                   responses={202: JobAcceptedSerializer}, parameters=[IDEMPOTENCY_KEY],
                   examples=[OpenApiExample("Sleep 5 s", request_only=True,
                                            value={"handler": "jobs.sleep", "args": {"seconds": 5}}),
                             OpenApiExample("In a minute, at most once", request_only=True,
                                            value={"handler": "jobs.noop", "delay": 60, "unique_key": "nightly"})])
    @idempotent
    def post(self, request):
        serializer = JobEnqueueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.job_enqueue(
            **serializer.validated_data,
            requested_by=request.user,
            trace_id=trace_id_from_traceparent(request.headers.get("traceparent")),
        )
        return accepted(job, request)


class JobBatchEnqueueApi(APIView):
    """Enqueue up to JOBS_BATCH_MAX_JOBS jobs in one transaction and one INSERT: all or none. A bad item
    is a 400 naming it (`errors.jobs["3"].args`); 202 with every job's id and status URL."""

    throttle_classes = [EnqueueThrottle]

    @extend_schema(operation_id="job_enqueue_batch", tags=["jobs"], request=JobBatchSerializer,
                   responses={202: JobBatchAcceptedSerializer}, parameters=[IDEMPOTENCY_KEY],
                   examples=[OpenApiExample("Two jobs", request_only=True, value={"jobs": [
                       {"handler": "jobs.sleep", "args": {"seconds": 1}}, {"handler": "jobs.noop", "priority": 5}]})])
    @idempotent
    def post(self, request):
        serializer = JobBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        jobs = services.job_enqueue_many(
            jobs=serializer.validated_data["jobs"],
            requested_by=request.user,
            trace_id=trace_id_from_traceparent(request.headers.get("traceparent")),
        )
        url = request.build_absolute_uri(reverse("api:job-detail", args=[0]))  # once, not a reverse per job
        head, tail = url.rsplit("/0/", 1)
        for job in jobs:
            job.status_url = f"{head}/{job.pk}/{tail}"
        data = JobBatchAcceptedSerializer({"trace_id": jobs[0].trace_id, "jobs": jobs}).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class _JobMatchingApi(APIView):
    """Bulk retry or cancel of the jobs matching a filter body, by the rules of one at a time."""

    action = ""

    def post(self, request):
        serializer = JobMatchSerializer(data=request.data, context={"jobs": selectors.job_list(user=request.user)})
        serializer.is_valid(raise_exception=True)
        matching = services.job_retry_matching if self.action == "retry" else services.job_cancel_matching
        limit = settings.JOBS_BULK_MAX_JOBS
        outcome = matching(jobs=serializer.validated_data["jobs"], by=request.user, limit=limit)
        body = {"matched": outcome.matched, "limit": limit, "done": outcome.done, "skipped": dict(outcome.skipped)}
        return Response(BulkOutcomeSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(post=extend_schema(
    operation_id="jobs_retry_matching", tags=["jobs"], request=JobMatchSerializer,
    responses={202: BulkOutcomeSerializer},
    examples=[OpenApiExample("Failed imports", request_only=True,
                             value={"status": "failed", "handler": "updater.import_feed"})],
))  # fmt: skip
class JobRetryMatchingApi(_JobMatchingApi):
    """Retry the failed, cancelled or expired jobs matching the filter (at most JOBS_BULK_MAX_JOBS,
    oldest first): jobs.retry_job for anyone's, else your own."""

    action = "retry"


@extend_schema_view(post=extend_schema(
    operation_id="jobs_cancel_matching", tags=["jobs"], request=JobMatchSerializer,
    responses={202: BulkOutcomeSerializer},
))  # fmt: skip
class JobCancelMatchingApi(_JobMatchingApi):
    """Cancel the active jobs matching the filter (at most JOBS_BULK_MAX_JOBS, oldest first):
    jobs.cancel_job for anyone's, else your own."""

    action = "cancel"


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
