"""Liveness and readiness: what `/healthz`, `/readyz` and `manage.py jobs_health` answer.

Readiness is a few cheap checks, each named in the answer: the database answers, every migration is
applied (Django's migration plan, read from the migration files loaded once and the applied table),
and, when JOBS_REQUIRE_WORKERS is set, a cluster reported within JOBS_STALE_SECONDS."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from jobs.models import Cluster


def _database() -> str | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


def _migrations() -> str | None:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        return f"{len(plan)} migration(s) not applied: {names}"
    return None


def _workers() -> str | None:
    since = timezone.now() - timedelta(seconds=settings.JOBS_STALE_SECONDS)
    if not Cluster.objects.filter(seen_at__gte=since).exists():
        return f"no cluster seen in the last {settings.JOBS_STALE_SECONDS:g} s"
    return None


CHECKS = {"database": _database, "migrations": _migrations, "workers": _workers}


def readiness() -> dict:
    """{"ready": bool, "checks": {name: "ok" | "skipped" | what failed}}. The checks after a failed one
    are skipped (they would fail the same way), and so is `workers` without JOBS_REQUIRE_WORKERS."""
    checks: dict[str, str] = {}
    failed = False
    for name, check in CHECKS.items():
        if failed or (name == "workers" and not settings.JOBS_REQUIRE_WORKERS):
            checks[name] = "skipped"
            continue
        try:
            problem = check()
        except Exception as exc:  # an unreachable database, a broken migration graph: not ready, never a 500
            problem = f"{type(exc).__name__}: {str(exc).strip()[:300]}"
        checks[name] = problem or "ok"
        failed = problem is not None
    return {"ready": not failed, "checks": checks}
