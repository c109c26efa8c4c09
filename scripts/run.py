"""`make run`: prepare everything, then run the web server and one qcluster (serving every queue) together.

Creates .env on first run (a fresh secret key and demo admin password), migrates, collects static
files, creates the demo data, starts gunicorn and the workers, prints the address and the login.
Ctrl-C stops them all, and whatever they started. A port in use is said
before anything starts, with the variable to change (PORT)."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_FILE = BASE_DIR / ".env"
PYTHON = sys.executable


def ensure_env_file() -> None:
    if ENV_FILE.exists():
        return
    lines = (BASE_DIR / ".env.example").read_text().splitlines()
    lines = [line for line in lines if not line.startswith(("DJANGO_DEBUG=", "DJANGO_SECRET_KEY="))]
    lines += [
        "",
        "# Written by make run on first start.",
        "DJANGO_DEBUG=0",
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
        "# Served over plain HTTP on this machine: no redirect to HTTPS, cookies not HTTPS-only.",
        "DJANGO_SECURE_SSL_REDIRECT=0",
        "DJANGO_SECURE_COOKIES=0",
        "DJANGO_SECURE_HSTS_SECONDS=0",
        "DEMO_ADMIN_USERNAME=admin",
        f"DEMO_ADMIN_PASSWORD={secrets.token_urlsafe(12)}",
    ]
    ENV_FILE.write_text("\n".join(lines) + "\n")
    print(f"Wrote {ENV_FILE.name} with a new secret key and demo admin password.")


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, check=True)


def port_free(port: int) -> bool:
    """Whether gunicorn can bind 127.0.0.1:port (with SO_REUSEADDR, as gunicorn binds)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(command: list[str], **env: str) -> subprocess.Popen:
    """A child in a process group of its own: stopping it takes whatever it started along, even when the
    child itself was killed and its workers were orphaned."""
    return subprocess.Popen(command, env={**os.environ, **env}, process_group=0)


def stop_all(children: list[subprocess.Popen]) -> None:
    """SIGTERM every child's group, wait up to 10 s, then SIGKILL whatever is left in each group."""
    for child in children:
        signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for child in children:
        signal_group(child, signal.SIGKILL)
        child.wait()


def signal_group(child: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:  # the group is empty: nothing left to stop
        pass


def main() -> int:
    ensure_env_file()
    os.chdir(BASE_DIR)
    import environ

    env = environ.Env()
    environ.Env.read_env(ENV_FILE)
    port = env.int("PORT", default=8000)
    if not port_free(port):
        print(f"Port {port} on 127.0.0.1 is in use. Set PORT to a free one, e.g. `PORT={port + 1} make run`.",
              file=sys.stderr)  # fmt: skip
        return 1
    # An .env from before HTTPS became the production default: this server speaks plain HTTP.
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_COOKIES", "DJANGO_SECURE_HSTS_SECONDS"):
        if f"{name}=" not in ENV_FILE.read_text():
            os.environ.setdefault(name, "0")
    manage("migrate", "--noinput", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    manage("demo_data")

    queues = [item.partition(":")[0] for item in env.list("JOBS_QUEUES", default=["default"])]
    stopping = False

    def on_signal(*_) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children = [
        start([PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
               "--threads", "4", "--access-logfile", "-"])  # fmt: skip
    ]
    children.append(start([PYTHON, "manage.py", "qcluster"]))  # one cluster serves every queue
    print(
        f"\n  Long Process API is running: http://127.0.0.1:{port}/\n"
        f"  Log in as {env('DEMO_ADMIN_USERNAME', default='admin')} / {env('DEMO_ADMIN_PASSWORD', default='(see .env)')}\n"
        f"  API docs: http://127.0.0.1:{port}/api/docs/   Admin: http://127.0.0.1:{port}/admin/\n"
        f"  Workers: one qcluster serving queue(s) {', '.join(queues)}. Ctrl-C stops everything.\n",
        flush=True,
    )
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    if not stopping:
        print("A server process exited; stopping the others.", file=sys.stderr)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave the children half stopped
    stop_all(children)
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
