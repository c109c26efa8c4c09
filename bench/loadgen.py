"""HTTP load against a local server: wrk when it is installed (C, cheap on a 2-core machine shared
with the server), else a Python generator (threads, one keep-alive connection each), which costs
the server more CPU and so measures lower. The report names the one used."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

WRK_LUA = """
local f = assert(io.open("%(body)s", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "%(content_type)s"
wrk.headers["Authorization"] = "Token %(token)s"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %%d, "duration_s": %%f, "errors": {"connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d}, "p50_ms": %%f, "p99_ms": %%f}\\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    body: bytes
    content_type: str


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def wrk_version() -> str:
    if not shutil.which("wrk"):
        return "not installed"
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    match = re.search(r"wrk ([\w.\-]+)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


def load(*, port: int, token: str, target: Target, connections: int, seconds: float) -> dict:
    """requests/s, p50/p99 in ms and errors (failed connections, time-outs, non-2xx answers)."""
    if generator() == "wrk":
        return _wrk(port, token, target, connections, seconds)
    return _python(port, token, target, connections, seconds)


def _wrk(port: int, token: str, target: Target, connections: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        body, script = Path(tmp) / "body", Path(tmp) / "post.lua"
        body.write_bytes(target.body)
        script.write_text(WRK_LUA % {"body": body, "content_type": target.content_type, "token": token})
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(script),
             f"http://127.0.0.1:{port}{target.path}"],
            capture_output=True, text=True, timeout=seconds + 60,
        )  # fmt: skip
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout[-1000:]} {out.stderr[-1000:]}")
    raw = json.loads(line.removeprefix("BENCHJSON "))
    return {
        "requests_per_s": raw["requests"] / raw["duration_s"], "requests": raw["requests"],
        "p50_ms": raw["p50_ms"], "p99_ms": raw["p99_ms"], "errors": sum(raw["errors"].values()),
        "error_kinds": {k: v for k, v in raw["errors"].items() if v},
    }  # fmt: skip


def _python(port: int, token: str, target: Target, connections: int, seconds: float) -> dict:
    headers = {"Content-Type": target.content_type, "Authorization": f"Token {token}"}
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, bad = [], []
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                conn.request("POST", target.path, body=target.body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    bad.append(f"status {response.status}")
                mine.append(time.perf_counter() - start)
            except (OSError, http.client.HTTPException) as exc:
                bad.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    latencies.sort()
    pick = lambda p: 1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else 0.0  # noqa: E731
    return {
        "requests_per_s": len(latencies) / elapsed, "requests": len(latencies), "p50_ms": pick(50),
        "p99_ms": pick(99), "errors": len(errors), "error_kinds": {e: errors.count(e) for e in set(errors)},
    }  # fmt: skip
