"""API-wide plumbing: every error becomes one JSON body, never a 500; the JSON parser; pagination.

The error body (docs/SECURITY.md, "Error answers"), for every 4xx and 503 the API gives:

    {"code": "invalid", "detail": "Invalid input.", "errors": {"args": ["..."]}}

`code` is stable for scripts, `detail` is for people, `errors` maps field names to messages (empty
when no field is at fault). A few answers add a key of their own (`existing_id` on a duplicate)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, parsers, serializers, status
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


class ErrorSerializer(serializers.Serializer):
    """The error body, for the schema."""

    code = serializers.CharField(help_text="Stable machine-readable code, e.g. invalid, not_found, conflict.")
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class BoundedJSONParser(parsers.JSONParser):
    """JSON with a nesting limit (settings.API_MAX_JSON_DEPTH): a body nested thousands deep is a
    400, not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        if _depth_exceeds(data, settings.API_MAX_JSON_DEPTH):
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {settings.API_MAX_JSON_DEPTH} levels.")
        return data


def _depth_exceeds(data, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class NewestFirstPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
