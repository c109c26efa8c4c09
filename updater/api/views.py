"""The updater's REST API: send a feed (202 and a job), the synchronous baseline, and the catalogue."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import StrictPageSizeMixin
from config.throttles import EnqueueThrottle
from jobs.api.serializers import JobAcceptedSerializer
from jobs.api.idempotency import idempotent
from jobs.api.views import IDEMPOTENCY_KEY, accepted
from jobs.tracing import trace_id_from_traceparent
from updater import selectors, services
from updater.api.serializers import (
    ImportSummarySerializer,
    ProductSerializer,
    UpdateCreateSerializer,
    UpdateSyncSerializer,
)
from updater.filters import ProductFilter
from updater.upload_guard import feed_check_upload_cut


def _feed_input(request, serializer_class) -> dict:
    # Who may send and the size in the headers were checked before the body was read
    # (updater.upload_guard); a body that turned out too large was cut off there.
    services.feed_check_request_size(content_length=request.META.get("CONTENT_LENGTH"))
    serializer = serializer_class(data=request.data)
    feed_check_upload_cut(request)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class UpdateCreateApi(APIView):
    """Send a feed to import. Answers 202 at once with the import job; poll its status URL."""

    throttle_classes = [EnqueueThrottle]

    @extend_schema(operation_id="feed_import", tags=["updater"], request=UpdateCreateSerializer,
                   responses={202: JobAcceptedSerializer}, parameters=[IDEMPOTENCY_KEY],
                   examples=[OpenApiExample("Two rows as JSON", request_only=True, media_type="application/json",
                                            value={"rows": [{"sku": "A-1", "price": "9.90", "stock": 3},
                                                            {"sku": "B-2", "name": "Lamp", "stock": 0}]})])
    @idempotent
    def post(self, request):
        data = _feed_input(request, UpdateCreateSerializer)
        trace_id = trace_id_from_traceparent(request.headers.get("traceparent"))
        if "file" in data:
            job = services.feed_import_start(
                upload=data.pop("file"), requested_by=request.user, trace_id=trace_id, **data
            )
        else:
            job = services.feed_rows_import_start(
                rows=data.pop("rows"), requested_by=request.user, trace_id=trace_id, **data
            )
        return accepted(job, request)


class UpdateSyncApi(APIView):
    """THE OLD WAY, kept as a baseline to compare against: imports the feed inside the request and
    answers 200 with the summary when done. A large feed outlasts any HTTP timeout; use
    POST /api/v1/updates/ instead."""

    throttle_classes = [EnqueueThrottle]

    @extend_schema(operation_id="feed_import_sync", tags=["updater"], request=UpdateSyncSerializer,
                   responses={200: ImportSummarySerializer}, deprecated=True)
    def post(self, request):
        data = _feed_input(request, UpdateSyncSerializer)
        summary = services.feed_import_sync(
            requested_by=request.user, upload=data.get("file"), rows=data.get("rows"), chunk_size=data.get("chunk_size")
        )
        return Response(summary)


class ProductPagination(StrictPageSizeMixin, CursorPagination):
    ordering = ("sku",)  # unique and indexed: a stable cursor however many rows share a timestamp
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema_view(
    get=extend_schema(operation_id="products_list", tags=["updater"],
                      parameters=[OpenApiParameter("active", str, enum=["true", "false", "1", "0", ""],
                                                  description="empty: no filter, as when absent")])
)
class ProductListApi(generics.ListAPIView):
    """The catalogue in sku order; filter by sku, currency, active and updated_since (ISO 8601)."""

    serializer_class = ProductSerializer
    pagination_class = ProductPagination
    filterset_class = ProductFilter

    def get_queryset(self):
        return selectors.product_list()
