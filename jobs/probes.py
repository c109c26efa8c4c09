"""The operator's endpoints outside the API: `/healthz`, `/readyz` (open, for load balancers and
orchestrators; they reveal only which check failed) and `/metrics` (Prometheus text format, behind
METRICS_TOKEN or a staff login). They never answer 500: a failing check is a 503 naming it."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.api import error_body
from jobs import health, metrics


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers; the database is not touched."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, every migration is applied and (if required) a cluster is alive."""
    report = health.readiness()
    body = {"status": "ok" if report["ready"] else "unavailable", "checks": report["checks"]}
    return JsonResponse(body, status=200 if report["ready"] else 503)


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus scrape: a bearer token equal to METRICS_TOKEN, or a logged-in staff user."""
    if not (_bearer_ok(request) or request.user.is_staff):
        if request.user.is_authenticated:
            return JsonResponse(error_body(code="permission_denied", detail="Metrics are for staff."), status=403)
        detail = "Send `Authorization: Bearer <METRICS_TOKEN>`, or log in as staff."
        response = JsonResponse(error_body(code="not_authenticated", detail=detail), status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    content, content_type = metrics.scrape()
    return HttpResponse(content, content_type=content_type)


def _bearer_ok(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
