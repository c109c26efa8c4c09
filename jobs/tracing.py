"""W3C trace context: a job carries the trace id of the request that asked for it."""

import re
import uuid

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-(?P<trace_id>[0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def new_trace_id() -> str:
    return uuid.uuid4().hex


def trace_id_from_traceparent(header: str | None) -> str:
    """The trace id of a valid `traceparent` header, else a new one (an all-zero id is invalid)."""
    match = _TRACEPARENT.match((header or "").strip().lower())
    if match and match["trace_id"] != "0" * 32:
        return match["trace_id"]
    return new_trace_id()
