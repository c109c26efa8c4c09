"""The database down is a 503 (JSON with Retry-After in the API, a plain page elsewhere), and the
web process recovers by itself when the database returns."""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.urls import reverse

from tests.console.conftest import logged_in

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_the_api_answers_503_with_the_error_body_and_retry_after(staff_client, settings, error):
    with mock.patch("jobs.selectors.job_list", side_effect=error("server closed the connection")):
        response = staff_client.get(reverse("api:job-list"))
    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.DB_UNAVAILABLE_RETRY_AFTER)
    assert response.json()["code"] == "unavailable"


def test_a_page_answers_a_plain_503(staff):
    client = logged_in(staff)
    with mock.patch("jobs.selectors.job_list", side_effect=OperationalError("gone")):
        response = client.get(reverse("jobs:list"))
    assert response.status_code == 503 and "Service unavailable" in response.content.decode()
    assert "Retry-After" in response


# --- a PostgreSQL of the test's own, stopped and started -------------------------------------


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or ([shutil.which("initdb")] if shutil.which("initdb") else [])
    return Path(found[-1]).parent if found else None


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() != 0:
        return list(command)
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _until(condition, *, timeout: float = 60.0, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)  # polling a condition with a deadline, not synchronising on time


SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.authtoken.models import Token
user = get_user_model().objects.create_superuser("dba", password="pass-word-123")
session = SessionStore()
session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "config.throttles.LoginLockoutBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("KEYS", Token.objects.create(user=user).key, session.session_key)
"""


@pytest.fixture
def own_postgres():
    """A PostgreSQL cluster in a temporary directory on a free port; yields (url, stop, start)."""
    binaries = _binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: initdb refuses root")
    data = Path(tempfile.mkdtemp(prefix="pgdown-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    pg_ctl = [str(binaries / "pg_ctl"), "-D", str(data / "db"), "-w", "-l", str(data / "log")]
    subprocess.run(_as_postgres(str(binaries / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres",
                                "--no-sync"), check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = lambda: subprocess.run(_as_postgres(*pg_ctl, "-o", options, "start"), check=True, capture_output=True)
    stop = lambda: subprocess.run(_as_postgres(*pg_ctl, "-m", "fast", "stop"), check=True, capture_output=True)
    start()
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres", stop, start
    finally:
        subprocess.run(_as_postgres(*pg_ctl, "-m", "immediate", "stop"), capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_a_database_outage_is_503_and_the_web_recovers_when_it_returns(own_postgres, tmp_path):
    url, stop, start = own_postgres
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(tmp_path), "LOG_LEVEL": "ERROR"}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", SETUP], cwd=BASE_DIR, env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    token, session = out.split("KEYS", 1)[1].split()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                               "--workers", "1", "--threads", "2"], cwd=BASE_DIR, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    api = lambda: _get(f"http://127.0.0.1:{port}/api/v1/jobs/", Authorization=f"Token {token}")
    page = lambda: _get(f"http://127.0.0.1:{port}/jobs/list/", Cookie=f"sessionid={session}")
    try:
        _until(lambda: _reachable(api) and api()[0] == 200, what="the API to answer 200")
        assert page()[0] == 200
        stop()
        status, headers, body = api()
        assert status == 503 and json.loads(body)["code"] == "unavailable" and int(headers["Retry-After"]) > 0
        status, headers, body = page()
        assert status == 503 and b"Service unavailable" in body and "Retry-After" in headers
        start()
        _until(lambda: api()[0] == 200, what="the API to recover")
        assert page()[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def _reachable(call) -> bool:
    try:
        call()
        return True
    except OSError:
        return False
