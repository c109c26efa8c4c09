"""`make run` (scripts/run.py) on a copy of the repository: a taken port is refused before anything
starts, and Ctrl-C leaves no process behind, also after one of its workers was killed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.waiting import wait_for

BASE_DIR = Path(__file__).resolve().parents[2]
COPY_IGNORES = shutil.ignore_patterns(".venv", ".git", ".env", "db.sqlite3*", "media", "staticfiles", "artifacts",
                                      "__pycache__", "docs", "bench", "tests")  # fmt: skip


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The repository's code in a temporary directory, so .env, the database and static files land there."""
    target = tmp_path / "repo"
    shutil.copytree(BASE_DIR, target, ignore=COPY_IGNORES)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_script(checkout: Path, port: int, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port), "JOBS_WORKERS": "1"}
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG"):
        env.pop(name, None)  # what a fresh clone has: SQLite, the ORM broker, the .env run.py writes
    return subprocess.Popen([sys.executable, "scripts/run.py"], cwd=checkout, env=env, text=True,
                            start_new_session=True, **kwargs)  # fmt: skip


def session_processes(session_id: int) -> set[int]:
    """The live (not zombie) processes of a session, read from /proc."""
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == session_id:
            pids.add(int(stat.parent.name))
    return pids


def children_of(pid: int) -> set[int]:
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_a_taken_port_is_refused_with_the_variable_to_set(checkout):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = run_script(checkout, port, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert f"Port {port} on 127.0.0.1 is in use. Set PORT" in err
    assert "running" not in out
    assert not (checkout / "db.sqlite3").exists()  # nothing was started


@pytest.fixture
def running(checkout, tmp_path):
    """`make run`'s script serving its first page: (its process, the qcluster's pid, the cluster's
    processes). Whatever is left of its session is killed at teardown, and its log printed."""
    port = free_port()
    with (tmp_path / "run.log").open("w") as log:
        process = run_script(checkout, port, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/"), timeout=120, message="the first page")
        qcluster = next(pid for pid in children_of(process.pid)
                        if b"qcluster" in Path(f"/proc/{pid}/cmdline").read_bytes())  # fmt: skip
        yield process, qcluster, wait_for(lambda: children_of(qcluster), message="qcluster's processes")
    finally:
        for pid in session_processes(process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # ended on its own meanwhile
                pass
        print((tmp_path / "run.log").read_text())


@pytest.mark.integration
def test_ctrl_c_after_a_worker_was_killed_leaves_no_process(running):
    process, _, workers = running
    os.kill(min(workers), signal.SIGKILL)
    assert len(session_processes(process.pid)) > 3  # run.py, gunicorn and its workers, the cluster
    os.kill(process.pid, signal.SIGINT)
    assert process.wait(timeout=60) == 0
    wait_for(lambda: not session_processes(process.pid), timeout=30, message="every process to stop")


@pytest.mark.integration
def test_a_killed_cluster_stops_the_rest_and_leaves_no_orphan(running):
    process, qcluster, _ = running
    os.kill(qcluster, signal.SIGKILL)  # its workers are orphaned, still in its process group
    assert process.wait(timeout=60) == 1
    wait_for(lambda: not session_processes(process.pid), timeout=30, message="every process to stop")
