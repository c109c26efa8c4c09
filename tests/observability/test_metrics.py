import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from jobs import services
from jobs.models import Cluster, Job, Queue
from jobs.runner import run
from tests.factories import JobFactory

TOKEN = "s3cret-scrape-token"


@pytest.fixture
def scrape(client, settings, db):
    settings.METRICS_TOKEN = TOKEN

    def get() -> dict[str, dict[tuple, float]]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        samples: dict[str, dict[tuple, float]] = {}
        for family in text_string_to_metric_families(response.content.decode()):
            for sample in family.samples:
                samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
        return samples

    return get


def value(samples: dict, name: str, **labels) -> float:
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def test_anonymous_is_401(client, db, settings):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer wrong", "Bearer", "Basic czNjcmV0", f"Token {TOKEN}", "Bearer \x00"])
def test_a_wrong_token_is_401(client, db, settings, header):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 401


def test_no_token_configured_refuses_every_bearer(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_an_ordinary_user_is_403(client, user):
    client.force_login(user)
    response = client.get("/metrics")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_staff_may_scrape(client, staff):
    client.force_login(staff)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"jobs_database_up 1.0" in response.content


def test_metrics_refuses_writes(client, staff):
    client.force_login(staff)
    assert client.post("/metrics").status_code == 405


def test_queue_gauges_come_from_the_database(scrape, settings):
    now = timezone.now()
    JobFactory(status=Job.Status.QUEUED, run_after=now - timedelta(seconds=30))
    JobFactory(status=Job.Status.QUEUED, run_after=now + timedelta(hours=1))
    JobFactory(status=Job.Status.RESERVED)
    JobFactory(status=Job.Status.RUNNING, heartbeat_at=now)
    JobFactory(status=Job.Status.RUNNING, heartbeat_at=now - timedelta(seconds=settings.JOBS_STALE_SECONDS + 5))
    JobFactory.create_batch(3, status=Job.Status.SUCCEEDED, finished_at=now)
    Queue.objects.create(name="default", paused_at=now)
    Cluster.objects.create(id="h:1", host="h", pid=1, workers=2, started_at=now, seen_at=now)
    Cluster.objects.create(id="h:2", host="h", pid=2, workers=2, started_at=now, seen_at=now - timedelta(hours=1))
    samples = scrape()
    assert value(samples, "jobs_queue_due", queue="default") == 1
    assert value(samples, "jobs_queue_delayed", queue="default") == 1
    assert value(samples, "jobs_reserved", queue="default") == 1
    assert value(samples, "jobs_running", queue="default") == 2
    assert value(samples, "jobs_stale", queue="default") == 1
    assert 29 <= value(samples, "jobs_oldest_due_age_seconds", queue="default") < 120
    assert value(samples, "jobs_queue_paused", queue="default") == 1
    assert value(samples, "jobs_clusters_alive") == 1
    assert value(samples, "jobs_database_up") == 1


def test_the_scrape_reads_only_active_jobs(scrape, django_assert_max_num_queries):
    JobFactory.create_batch(5, status=Job.Status.SUCCEEDED, finished_at=timezone.now())
    with django_assert_max_num_queries(4):
        scrape()


def test_an_unreadable_database_is_a_gauge_not_a_500(scrape, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("jobs.stats.queue_stats", broken)
    samples = scrape()
    assert value(samples, "jobs_database_up") == 0
    assert "jobs_queue_due" not in samples


def test_runner_and_enqueue_count_their_events(scrape, django_capture_on_commit_callbacks):
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        ok = services.job_enqueue(handler="jobs.noop")
        failing = services.job_enqueue(handler="jobs.fail", max_attempts=2)
    run(ok.pk)
    run(failing.pk)
    Job.objects.filter(pk=failing.pk).update(run_after=timezone.now())
    run(failing.pk)
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    noop, fail = {"handler": "jobs.noop", "queue": "default"}, {"handler": "jobs.fail", "queue": "default"}
    assert delta("jobs_enqueued_total", **noop) == 1
    assert delta("jobs_enqueued_total", **fail) == 1
    assert delta("jobs_started_total", **fail) == 2
    assert delta("jobs_finished_total", outcome="succeeded", **noop) == 1
    assert delta("jobs_finished_total", outcome="retry", **fail) == 1
    assert delta("jobs_finished_total", outcome="failed", **fail) == 1
    assert delta("jobs_retries_total", **fail) == 1
    assert delta("jobs_run_duration_seconds_count", **fail) == 2
    assert delta("jobs_wait_seconds_count", **noop) == 1


def test_a_rolled_back_enqueue_is_not_counted(scrape, django_capture_on_commit_callbacks):
    before = value(scrape(), "jobs_enqueued_total", handler="jobs.noop", queue="default")
    with django_capture_on_commit_callbacks(execute=False):  # never committed
        services.job_enqueue(handler="jobs.noop")
    assert value(scrape(), "jobs_enqueued_total", handler="jobs.noop", queue="default") == before


def test_expirations_are_counted(scrape):
    before = value(scrape(), "jobs_expired_total")
    JobFactory(status=Job.Status.QUEUED, deadline=timezone.now() - timedelta(seconds=1))
    assert services.job_expire_overdue() == 1
    assert value(scrape(), "jobs_expired_total") == before + 1


def test_processes_sharing_a_multiproc_dir_add_up(tmp_path):
    """Several processes (gunicorn workers, qcluster workers) each count; a scrape sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    count = textwrap.dedent("""
        import django; django.setup()
        from jobs import metrics
        metrics.job_enqueued(handler="h", queue="q")
        metrics.DURATION.labels("h", "q").observe(0.3)
    """)
    read = textwrap.dedent("""
        import django; django.setup()
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        print(generate_latest(registry).decode())
    """)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, cwd=Path(__file__).parents[2])
    out = subprocess.run([sys.executable, "-c", read], env=env, check=True, capture_output=True, text=True,
                         cwd=Path(__file__).parents[2]).stdout  # fmt: skip
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out)
        for s in family.samples
    }
    assert samples[("jobs_enqueued_total", (("handler", "h"), ("queue", "q")))] == 2
    assert samples[("jobs_run_duration_seconds_count", (("handler", "h"), ("queue", "q")))] == 2


PROMETHEUS = shutil.which("prometheus")


@pytest.mark.skipif(PROMETHEUS is None, reason="Debian's prometheus package is not installed (no server to scrape with)")
def test_a_real_prometheus_server_scrapes_metrics(live_server, settings, tmp_path):
    import json
    import socket

    settings.METRICS_TOKEN = TOKEN
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = live_server.url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(textwrap.dedent(f"""
        global: {{scrape_interval: 1s}}
        scrape_configs:
          - job_name: jobs
            authorization: {{type: Bearer, credentials: {TOKEN}}}
            static_configs: [{{targets: ["{target}"]}}]
    """))
    server = subprocess.Popen(
        [PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline, found = time.monotonic() + 60, None
        while time.monotonic() < deadline and not found:
            time.sleep(0.5)
            try:
                url = f"http://127.0.0.1:{port}/api/v1/query?query=jobs_database_up"
                found = json.load(urllib.request.urlopen(url, timeout=2))["data"]["result"]
            except OSError:
                continue
        assert found and found[0]["value"][1] == "1"
    finally:
        server.terminate()
        server.wait(timeout=30)
