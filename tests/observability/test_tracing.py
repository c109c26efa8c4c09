"""Traces with the SDK's in-memory exporter: the request, the enqueue and each attempt in one trace."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from opentelemetry import trace
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from jobs import middleware, services, tracing
from jobs.models import Job
from jobs.runner import run

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"

_exporter = InMemorySpanExporter()


@pytest.fixture
def spans():
    """Tracing on for this test, as `configure()` sets it up from OTEL_* (the SDK's provider is global:
    installed once; Django's instrumentation and our flag are undone after each test)."""
    if trace.get_tracer_provider().__class__.__name__ != "TracerProvider":
        tracing.configure(exporter=_exporter, instrument_django=False)
    tracing._enabled = True
    DjangoInstrumentor().instrument()
    _exporter.clear()
    middleware._chain.cache_clear()  # the chain was built with tracing off
    yield _exporter
    DjangoInstrumentor().uninstrument()
    tracing._enabled = False
    middleware._chain.cache_clear()


def by_name(exporter) -> dict:
    return {span.name.split(" ")[0]: span for span in exporter.get_finished_spans()}


def test_request_enqueue_and_run_are_one_trace(spans, api_client, django_capture_on_commit_callbacks):
    response = api_client.post(
        reverse("api:job-list"), {"handler": "jobs.noop"}, format="json", HTTP_TRACEPARENT=f"00-{TRACE}-{PARENT}-01"
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.trace_id == TRACE
    run(job.pk)
    found = by_name(spans)
    request, enqueue, attempt = found["POST"], found["job.enqueue"], found["job.run"]
    assert {s.context.trace_id for s in (request, enqueue, attempt)} == {int(TRACE, 16)}
    assert request.parent.span_id == int(PARENT, 16)
    assert enqueue.parent.span_id == request.context.span_id
    assert attempt.parent.span_id == enqueue.context.span_id == int(job.trace_parent, 16)
    assert enqueue.attributes["job.id"] == job.pk
    assert dict(attempt.attributes) == {
        "job.id": job.pk, "job.handler": "jobs.noop", "job.queue": "default", "job.attempt": 1, "job.outcome": "succeeded",
    }  # fmt: skip


def test_a_feed_upload_and_its_import_job_are_one_trace(spans, staff_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    feed = SimpleUploadedFile("feed.csv", b"sku,price,stock\nA-1,9.90,3\nB-2,4.50,0\n")
    response = staff_client.post(reverse("api:update-create"), {"file": feed}, format="multipart",
                               HTTP_TRACEPARENT=f"00-{TRACE}-{PARENT}-01")  # fmt: skip
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    run(job.pk)
    found = by_name(spans)
    request, enqueue, attempt = found["POST"], found["job.enqueue"], found["job.run"]
    assert {s.context.trace_id for s in (request, enqueue, attempt)} == {int(TRACE, 16)}
    assert enqueue.parent.span_id == request.context.span_id
    assert attempt.parent.span_id == enqueue.context.span_id
    assert attempt.attributes["job.handler"] == "updater.import_feed"
    assert attempt.attributes["job.outcome"] == "succeeded"


def test_a_request_without_traceparent_gives_the_job_the_requests_trace(spans, api_client):
    response = api_client.post(reverse("api:job-list"), {"handler": "jobs.noop"}, format="json")
    job = Job.objects.get(pk=response.json()["id"])
    assert by_name(spans)["POST"].context.trace_id == int(job.trace_id, 16)


def test_each_attempt_is_a_span_with_its_error(spans, db):
    job = services.job_enqueue(handler="jobs.fail", args={"message": "boom"}, max_attempts=2)
    run(job.pk)
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    run(job.pk)
    runs = [s for s in spans.get_finished_spans() if s.name == "job.run jobs.fail"]
    assert [s.attributes["job.attempt"] for s in runs] == [1, 2]
    for span in runs:
        assert span.status.status_code == trace.StatusCode.ERROR
        assert span.attributes["job.outcome"] == "error"
        assert [e.name for e in span.events] == ["exception"]
        assert span.events[0].attributes["exception.message"] == "boom"
        assert span.parent.span_id == int(job.trace_parent, 16)


def test_an_enqueue_outside_a_request_starts_its_own_trace(spans, db):
    job = services.job_enqueue(handler="jobs.noop")
    enqueue = by_name(spans)["job.enqueue"]
    assert enqueue.context.trace_id == int(job.trace_id, 16)


def test_tracing_off_adds_no_wrapper(settings):
    assert not tracing.enabled()
    marker = object()
    assert tracing.trace_run(marker) is marker


@pytest.mark.parametrize(
    "environment, wanted",
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
    ],
)
def test_only_the_otel_environment_turns_tracing_on(monkeypatch, environment, wanted):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert tracing.wanted() is wanted
