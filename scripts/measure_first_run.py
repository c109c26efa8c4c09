"""A new user's first `make run`, measured: clone the repository into a temporary directory, run
`make run` there on a free port, time it until the first page answers 200, measure the venv, stop it.

    python3 scripts/measure_first_run.py [--ref main] [--cold] [--keep]

--cold installs with an empty, private pip cache (PIP_CACHE_DIR in the temporary directory): the honest
figure for a machine that never installed these packages. Without it pip's own cache is used, which
makes a second install faster. Prints both figures and exits 1 when the first page never came."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # follows the redirect to the login page
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def tree_megabytes(path: Path) -> float:
    total = sum(entry.lstat().st_size for entry in path.rglob("*") if entry.is_file() and not entry.is_symlink())
    return total / 1_000_000


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C to the whole group, as a terminal sends it; then kill whatever is left in the session
    (an older `make run` left workers behind), so a measurement never leaves a server running."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
    time.sleep(1)
    for pid in session_processes(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def session_processes(session_id: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:
            pids.append(int(stat.parent.name))
    return pids


def measure(ref: str, *, cold: bool, workdir: Path) -> dict[str, float | str]:
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(BASE_DIR), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", ref], check=True)
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    for name in ("DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)  # a fresh clone: SQLite and the ORM broker
    if cold:
        env["PIP_CACHE_DIR"] = str(workdir / "pip-cache")
    log = (workdir / "make-run.log").open("w")
    started = time.monotonic()
    process = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        while not answers_200(url):
            if process.poll() is not None or time.monotonic() - started > TIMEOUT_SECONDS:
                log.flush()
                raise SystemExit(f"no page at {url}; make run's output:\n{(workdir / 'make-run.log').read_text()}")
            time.sleep(0.25)
        seconds = time.monotonic() - started
    finally:
        stop(process)
    return {"ref": ref, "pip cache": "empty" if cold else "warm", "seconds": round(seconds, 1),
            "venv MB": round(tree_megabytes(clone / ".venv"), 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="HEAD", help="commit or branch to clone (default: HEAD)")
    parser.add_argument("--cold", action="store_true", help="install with an empty pip cache")
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone (its path is printed)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="first-run-"))
    try:
        result = measure(args.ref, cold=args.cold, workdir=workdir)
    finally:
        if args.keep:
            print(f"clone kept in {workdir}", file=sys.stderr)
        else:
            subprocess.run(["rm", "-rf", str(workdir)], check=False)
    print(f"make run from a fresh clone of {result['ref']} (pip cache {result['pip cache']}): "
          f"first page in {result['seconds']} s, venv {result['venv MB']} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
