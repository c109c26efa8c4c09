"""API-wide plumbing: every error becomes one JSON body, never a 500; pagination; the schema's error answers.

The error body (docs/SECURITY.md, "Error answers"), for every 4xx and 503 the API gives:

    {"code": "invalid", "detail": "Invalid input.", "errors": {"args": ["..."]}}

`code` is stable for scripts, `detail` is for people, `errors` maps field names to messages (empty
when no field is at fault). A few answers add a key of their own (`existing_id` on a duplicate)."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jobs.exceptions import DomainError, PayloadTooLarge

NON_FIELD = "non_field_errors"


def error_body(*, code: str, detail: str, errors: dict | None = None, **extra) -> dict:
    """The one shape of every error answer."""
    return {"code": code, "detail": detail, "errors": errors or {}, **extra}


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge("Request body too large.")
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        body = error_body(code=exc.code, detail=str(exc), errors=exc.errors, **exc.extra)
        return Response(body, status=exc.status, headers=headers)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = _drf_body(exc, response.data)
    return response


def _drf_body(exc: exceptions.APIException, data) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {NON_FIELD: data}
        return error_body(code="invalid", detail=_first_message(errors), errors=errors)
    detail = data.get("detail", "") if isinstance(data, dict) else str(data)
    codes = exc.get_codes()
    return error_body(code=codes if isinstance(codes, str) else exc.default_code, detail=str(detail))


def _first_message(errors: dict) -> str:
    for field, messages in errors.items():
        first = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(first, str):
            return first if field == NON_FIELD else f"{field}: {first}"
        return f"{field}: invalid."
    return "Invalid input."


class StrictPageSizeMixin:
    """`page_size` outside 1..max_page_size, or not a number, is a 400 naming it (DRF would quietly
    fall back to the default); the schema states the bounds."""

    def get_page_size(self, request) -> int:
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        try:
            value = int(raw[-1])
        except ValueError:
            value = 0
        if len(raw) > 1 or not 1 <= value <= self.max_page_size:
            raise exceptions.ValidationError({self.page_size_query_param: [f"Give one whole number from 1 to {self.max_page_size}."]})
        return value

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


class NewestFirstPagination(StrictPageSizeMixin, CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def api_not_found(request, exception=None):
    """404 for a URL no route matches: the error body under /api/, Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code="not_found", detail="Not found."), status=404)
    return page_not_found(request, exception)


# --- OpenAPI: every answer an operation can give --------------------------------------------

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
_REASONS = {
    "400": "Invalid input: `errors` names the fields.",
    "401": "No or invalid credentials.",
    "403": "Not allowed (see docs/SECURITY.md).",
    "404": "Not found, or not yours to see.",
    "406": "No acceptable content type.",
    "409": "The job's or schedule's state forbids it, or an active job holds the unique key.",
    "413": "The body, or the feed, is over its limit.",
    "415": "Unsupported content type.",
    "422": "The Idempotency-Key was used for a different request.",
    "429": "Throttled, or too many active jobs (Retry-After).",
    "503": "The database is unavailable (Retry-After).",
}


def _error_codes(path: str, method: str) -> set[str]:
    codes = {"406", "503"}
    if not path.endswith("/auth/token/"):
        codes |= {"401", "403"}
    if "{" in path or method == "get":
        codes.add("404")  # a path's object, or a list's invalid cursor
    if method == "get" and "{" not in path:
        codes.add("400")  # filters
    if method == "post" and not path.endswith(("/retry/", "/cancel/")):
        codes |= {"400", "413", "415", "429"}
    if method == "post" and (path.endswith(("/retry/", "/cancel/")) or path.endswith(("/jobs/", "/jobs/batch/"))):
        codes.add("409")
    if method == "post" and path.endswith(("/jobs/retry/", "/jobs/cancel/")):
        codes.add("400")  # the filter body
    if method == "post" and path.endswith(("/jobs/", "/jobs/batch/", "/updates/", "/schedules/", "/run-now/")):
        codes.add("422")  # an Idempotency-Key reused with another request
    if method == "post" and "/updates/" in path:
        codes.add("403")
    if method == "patch":
        codes |= {"400", "413", "415"}
    if (method == "post" and path.endswith("/run-now/")) or (method == "delete" and "/schedules/" in path):
        codes.add("409")  # a run still going (overlap skip); a built-in schedule
    return codes


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the error answers of every operation, with the one error
    body (`Error`) and Retry-After where it applies."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
        "type": "object",
        "required": ["code", "detail", "errors"],
        "properties": {
            "code": {"type": "string", "description": "Stable: invalid, not_found, conflict, duplicate, ..."},
            "detail": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {}, "description": "Field name: messages."},
            "existing_id": {"type": "integer", "description": "On `duplicate`: the active job holding the key."},
        },
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in sorted(_error_codes(path, method)):
                answer = {"description": _REASONS[code], "content": {"application/json": {"schema": _ERROR_REF}}}
                if code in ("429", "503"):
                    answer["headers"] = _RETRY_AFTER
                responses.setdefault(code, answer)
    return result
