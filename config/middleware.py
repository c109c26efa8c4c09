"""The database down is a 503, not a 500: JSON with Retry-After under /api/, a plain page elsewhere."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from config.api import error_body

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Catches OperationalError and InterfaceError raised by a view (the API's included: DRF hands
    them on). The connection heals by itself: CONN_HEALTH_CHECKS opens a new one next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable: %s", exception, extra={"action": "web.db_unavailable"})
        retry_after = str(settings.DB_UNAVAILABLE_RETRY_AFTER)
        message = "The database is unavailable; try again shortly."
        if request.path.startswith("/api/"):
            response = JsonResponse(error_body(code="unavailable", detail=message), status=503)
        else:
            response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
        response["Retry-After"] = retry_after
        return response
