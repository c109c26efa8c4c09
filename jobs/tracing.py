"""W3C trace context and OpenTelemetry: a job carries the trace of the request that asked for it.

Tracing is on only when the standard OTEL_* variables ask for an exporter (OTEL_TRACES_EXPORTER, or
an OTLP endpoint) and OTEL_SDK_DISABLED is not true; `configure()` then installs the SDK and
instruments Django. Off, nothing is imported beyond this module and every hook returns at once.

One trace: the HTTP request's span (continuing an incoming `traceparent`), its child `job.enqueue`,
and each attempt's `job.run`, a child of the enqueue however late or wherever it starts: the job row
keeps the trace id and the enqueue span's id (`trace_parent`)."""

from __future__ import annotations

import contextlib
import os
import random
import re
import uuid
from collections.abc import Iterator
from typing import Any

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-(?P<trace_id>[0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_enabled = False


def new_trace_id() -> str:
    return uuid.uuid4().hex


def trace_id_from_traceparent(header: str | None) -> str:
    """The trace id of the request's span when tracing is on (it continues a valid `traceparent`);
    else that of a valid `traceparent` header, else a new one (an all-zero id is invalid)."""
    if _enabled:
        from opentelemetry import trace

        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            return f"{context.trace_id:032x}"
    match = _TRACEPARENT.match((header or "").strip().lower())
    if match and match["trace_id"] != "0" * 32:
        return match["trace_id"]
    return new_trace_id()


def enabled() -> bool:
    return _enabled


def wanted() -> bool:
    """Whether the OTEL_* environment asks for traces to be exported."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure(*, exporter: Any = None, instrument_django: bool = True) -> bool:
    """Install the SDK once per process when `wanted()` (or with `exporter`, for tests): a batch
    processor to OTLP/HTTP (or the console), and Django's request spans. True when tracing is on."""
    global _enabled
    if _enabled or (exporter is None and not wanted()):
        return _enabled
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "long-process-api")})
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(_exporter_from_environment()))
    trace.set_tracer_provider(provider)
    if instrument_django:
        from opentelemetry.instrumentation.django import DjangoInstrumentor

        DjangoInstrumentor().instrument()
    _enabled = True
    return True


def _exporter_from_environment():
    for name in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(","):
        if name.strip() == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: OTEL_EXPORTER_OTLP_*


def _tracer():
    from opentelemetry import trace

    return trace.get_tracer("jobs")


def trace_enqueue(call_next):
    """JOBS_ENQUEUE_MIDDLEWARE entry: `job.enqueue` around the insert (with tracing on)."""
    if not _enabled:
        return call_next

    def call(job):
        with enqueue_span(job):
            call_next(job)

    return call


@contextlib.contextmanager
def enqueue_span(job) -> Iterator[None]:
    """`job.enqueue`, a child of the request's span (or of the job's trace id, when the caller has no
    span); its id is stored on the job as `trace_parent`."""
    from opentelemetry import trace

    context = None
    current = trace.get_current_span().get_span_context()
    if not current.is_valid or f"{current.trace_id:032x}" != job.trace_id:
        context = trace.set_span_in_context(trace.NonRecordingSpan(_remote(job.trace_id, None)))
    attributes = {"job.handler": job.handler, "job.queue": job.queue}
    with _tracer().start_as_current_span(
        f"job.enqueue {job.handler}", context=context, kind=trace.SpanKind.PRODUCER, attributes=attributes
    ) as span:
        job.trace_parent = f"{span.get_span_context().span_id:016x}"
        yield
        span.set_attribute("job.id", job.pk)


def _remote(trace_id: str, span_id: str | None):
    from opentelemetry.trace import SpanContext, TraceFlags

    span = int(span_id, 16) if span_id else random.getrandbits(64) or 1
    return SpanContext(int(trace_id, 16), span, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))


def trace_run(call_next):
    """JOBS_MIDDLEWARE entry: each attempt as a `job.run` span, a child of the job's enqueue span,
    with the job's id, handler, queue, attempt and outcome; an exception is recorded on it."""
    if not _enabled:
        return call_next  # tracing off: not even a wrapper

    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    from jobs.exceptions import JobCancelled

    def call(ctx):
        job = ctx.job
        try:
            parent = trace.set_span_in_context(trace.NonRecordingSpan(_remote(job.trace_id, job.trace_parent or None)))
        except ValueError:  # a trace id that is not hex (set by hand): a trace of its own
            parent = None
        attributes = {"job.id": job.pk, "job.handler": job.handler, "job.queue": job.queue, "job.attempt": job.attempts}
        with _tracer().start_as_current_span(
            f"job.run {job.handler}", context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes,
            record_exception=False, set_status_on_exception=False,
        ) as span:  # fmt: skip
            try:
                result = call_next(ctx)
            except JobCancelled:
                span.set_attribute("job.outcome", "cancelled")
                raise
            except BaseException as exc:
                span.set_attribute("job.outcome", "error")
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:500]))
                raise
            span.set_attribute("job.outcome", "succeeded")
            return result

    return call
