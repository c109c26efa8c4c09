import json
from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone

from jobs.models import Cluster
from tests.commands.call import run_command


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")  # no `db` fixture: a query would raise
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_refuse_writes(client, db, path):
    assert client.post(path).status_code == 405
    assert client.delete(path).status_code == 405


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_anyone(client, user, staff, path):
    assert client.get(path).status_code == 200
    client.force_login(user)
    assert client.get(path).status_code == 200
    client.force_login(staff)
    assert client.get(path).status_code == 200


def test_readyz_ok_names_each_check(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "workers": "skipped"}}


def test_readyz_is_503_when_the_database_is_unreachable(client, db):
    with mock.patch.dict("jobs.health.CHECKS", database=mock.Mock(side_effect=OperationalError("connection refused"))):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "OperationalError: connection refused"
    assert body["checks"]["migrations"] == "skipped"


def test_readyz_is_503_when_a_migration_is_not_applied(client, db):
    with mock.patch("django.db.migrations.executor.MigrationExecutor.migration_plan", return_value=[]):
        assert client.get("/readyz").status_code == 200
    from django.db.migrations import Migration

    pending = [(Migration("0099_later", "jobs"), False)]
    with mock.patch("django.db.migrations.executor.MigrationExecutor.migration_plan", return_value=pending):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "1 migration(s) not applied: jobs.0099_later"


def test_readyz_requires_a_live_cluster_when_configured(client, db, settings):
    settings.JOBS_REQUIRE_WORKERS = True
    now = timezone.now()
    dead = dict(host="h", pid=1, workers=2, started_at=now, seen_at=now - timedelta(seconds=settings.JOBS_STALE_SECONDS + 5))
    Cluster.objects.create(id="h:1", **dead)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"].startswith("no cluster seen in the last")
    Cluster.objects.create(id="h:2", **{**dead, "pid": 2, "seen_at": now})
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["workers"] == "ok"


def test_jobs_health_exits_0_when_ready(db):
    outcome = run_command("jobs_health")
    assert outcome.code == 0
    assert outcome.out.splitlines()[-1] == "ready"
    outcome = run_command("jobs_health", "--json")
    assert json.loads(outcome.out)["status"] == "ok"


def test_jobs_health_exits_1_without_a_cluster(db, settings):
    settings.JOBS_REQUIRE_WORKERS = True
    outcome = run_command("jobs_health", "--json")
    assert outcome.code == 1
    body = json.loads(outcome.out)
    assert body["status"] == "unavailable"
    assert body["checks"]["workers"].startswith("no cluster")
    text = run_command("jobs_health")
    assert text.code == 1 and "NOT READY" in text.out


def test_jobs_health_exits_1_when_the_database_is_unreachable(db):
    with mock.patch.dict("jobs.health.CHECKS", database=mock.Mock(side_effect=OperationalError("down"))):
        outcome = run_command("jobs_health")
    assert outcome.code == 1
    assert "database    OperationalError: down" in outcome.out


def test_jobs_health_refuses_unknown_arguments(db):
    outcome = run_command("jobs_health", "--bogus")
    assert outcome.code == 64
