"""Database chores of the benchmark, run inside the system's own settings: emptying the tables
between runs, the user the load generator logs in as, a million finished jobs, and timing the reads
of the dashboard and the job list."""

from __future__ import annotations

import statistics
import time

from django.db import connection

TABLES = ["jobs_jobevent", "jobs_job", "django_q_ormq", "django_q_task", "bench_ceiling_ceilingrow",
          "updater_feed"]


def reset() -> dict:
    existing = set(connection.introspection.table_names())
    tables = [t for t in TABLES if t in existing]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    return {"emptied": tables}


def api_user(*, staff: bool = False) -> dict:
    """A user and its API token (created once, reused)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from django.contrib.auth.models import Permission

    name = "bench-staff" if staff else "bench"
    user, _ = get_user_model().objects.get_or_create(username=name, defaults={"is_staff": staff})
    # The feed endpoints need the catalogue's permissions, every job's pages `jobs.view_job`
    # (updater/permissions.py, jobs/permissions.py).
    codenames = ["add_feed", "change_product", *(["view_job"] if staff else [])]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    token, _ = Token.objects.get_or_create(user=user)
    return {"token": token.key}


def fill(*, rows: int) -> dict:
    """`rows` finished jobs (1 in 50 failed) spread over the last 30 days, with generate_series: the
    history a busy system builds up. ANALYZE afterwards, as autovacuum would."""
    assert connection.vendor == "postgresql", "the large-table run needs PostgreSQL"  # adds to what is there
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO jobs_job (handler, args, queue, priority, status, attempts, max_attempts, timeout,
                run_after, progress, result, error, trace_id, worker, reserved_by, created_at, reserved_at,
                started_at, finished_at, heartbeat_at)
            SELECT 'jobs.noop', '{}'::jsonb, 'default', 0,
                CASE WHEN g %% 50 = 0 THEN 'failed' ELSE 'succeeded' END, 1, 1, 30, ts, '{}'::jsonb, NULL,
                CASE WHEN g %% 50 = 0 THEN '{"type": "RuntimeError", "message": "boom", "traceback": ""}'::jsonb END,
                md5(g::text), '', '', ts, ts, ts + interval '5 ms', ts + interval '10 ms', ts + interval '10 ms'
            FROM (SELECT g, now() - interval '30 days' + g * (interval '30 days' / %s) - interval '1 minute' AS ts
                  FROM generate_series(1, %s) AS g) AS s
            """,
            [rows, rows],
        )
        cursor.execute("ANALYZE jobs_job")
    return {"rows": rows, "seconds": time.perf_counter() - start}


def enqueue_rate(*, n: int, batches: int) -> dict:
    """job_enqueue calls per second from one process (no workers running), median of `batches`."""
    from jobs.services import job_enqueue

    rates = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(n):
            job_enqueue(handler="jobs.noop")
        rates.append(n / (time.perf_counter() - start))
    return {"n": n, "rates": rates, "per_s": statistics.median(rates)}


def reads(*, repeat: int) -> dict:
    """Milliseconds (median of `repeat`, after one warm-up) of each read an operator waits for."""
    from django.test import Client

    from jobs import dashboard
    from jobs.stats import job_stats

    token = api_user(staff=True)["token"]
    api = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token}")
    page = Client(HTTP_HOST="localhost")
    from django.contrib.auth import get_user_model

    page.force_login(get_user_model().objects.get(username="bench-staff"))

    def get(client, path):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    probes = {
        "job_stats()": job_stats,
        "dashboard.finished_per_minute()": dashboard.finished_per_minute,
        "dashboard.latest_failures()": dashboard.latest_failures,
        "GET /api/v1/jobs/ (first page, staff)": lambda: get(api, "/api/v1/jobs/"),
        "GET /api/v1/jobs/?status=failed": lambda: get(api, "/api/v1/jobs/?status=failed"),
        "GET /jobs/ (dashboard page)": lambda: get(page, "/jobs/"),
        "GET /api/v1/queues/": lambda: get(api, "/api/v1/queues/"),
        "GET /jobs/list/ (first page)": lambda: get(page, "/jobs/list/"),
    }
    out = {}
    for name, call in probes.items():
        call()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            call()
            times.append(1000 * (time.perf_counter() - start))
        out[name] = statistics.median(times)
    from jobs.models import Job

    out["_jobs_in_table"] = Job.objects.count()
    return out


def drop_queued() -> dict:
    """Remove jobs still queued: what a timing without workers left."""
    from jobs.models import Job

    deleted, _ = Job.objects.filter(status=Job.Status.QUEUED).delete()
    return {"deleted": deleted}


def queue_fill(*, per_queue: int) -> dict:
    """`per_queue` no-op jobs in each configured queue (JOBS_QUEUES), interleaved, in one transaction."""
    from django.conf import settings
    from django.db import transaction

    from jobs.services import job_enqueue

    start = time.perf_counter()
    with transaction.atomic():
        for _ in range(per_queue):
            for queue in settings.JOBS_QUEUES:
                job_enqueue(handler="jobs.noop", queue=queue)
    return {"per_queue": per_queue, "queues": list(settings.JOBS_QUEUES), "seconds": time.perf_counter() - start}


def queue_shares(*, first: int, timeout: float = 600) -> dict:
    """Wait until `first` jobs have finished, then: which queue each of the first `first` started
    jobs came from (by start time), as shares."""
    from collections import Counter

    from jobs.models import Job

    deadline = time.monotonic() + timeout
    while Job.objects.filter(status=Job.Status.SUCCEEDED).count() < first:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {first} jobs finished in {timeout:.0f} s")
        time.sleep(0.1)
    queues = Job.objects.exclude(started_at=None).order_by("started_at", "id").values_list("queue", flat=True)[:first]
    counts = Counter(queues)
    return {"first": first, "counts": dict(counts), "shares": {q: n / first for q, n in counts.items()}}
