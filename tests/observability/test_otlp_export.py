"""End to end once: a process configured only by OTEL_* sends its spans by OTLP/HTTP to a small
receiver this test runs (as Jaeger, Tempo or a collector would receive them)."""

import os
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

SCRIPT = textwrap.dedent("""
    import django; django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from jobs import services
    from jobs.runner import run
    job = services.job_enqueue(handler="jobs.noop")
    run(job.pk)
    from opentelemetry import trace
    trace.get_tracer_provider().shutdown()  # flushes the batch
    print(job.trace_id, job.pk)
""")


def test_spans_reach_an_otlp_http_receiver(tmp_path):
    received: list[ExportTraceServiceRequest] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                received.append(request)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
        "OTEL_SERVICE_NAME": "jobs-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, cwd=Path(__file__).parents[2], capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    trace_id, job_id = done.stdout.split()
    spans = {
        span.name: span
        for request in received
        for resource_spans in request.resource_spans
        for scope in resource_spans.scope_spans
        for span in scope.spans
    }
    enqueue, attempt = spans["job.enqueue jobs.noop"], spans["job.run jobs.noop"]
    assert enqueue.trace_id.hex() == attempt.trace_id.hex() == trace_id
    assert attempt.parent_span_id == enqueue.span_id
    attributes = {a.key: a.value for a in attempt.attributes}
    assert attributes["job.id"].int_value == int(job_id)
    assert attributes["job.outcome"].string_value == "succeeded"
    service = {a.key: a.value.string_value for a in received[0].resource_spans[0].resource.attributes}
    assert service["service.name"] == "jobs-test"
