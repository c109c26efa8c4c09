"""The API's JSON parser (its own module: DRF imports parsers while it loads its settings)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, parsers


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
