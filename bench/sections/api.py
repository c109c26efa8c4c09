"""Section 3: the HTTP API under load, served by gunicorn as `make run` serves it (2 workers x 4
threads, DJANGO_DEBUG=0) on PostgreSQL, no workers running (the requests only
enqueue). Endpoints, in turn within each round:
- the ceiling: a bare DRF endpoint that inserts one row (bench/ceiling), same auth and middleware;
- POST /api/v1/jobs/ (enqueue a no-op job);
- POST /api/v1/updates/ (upload a 100-row CSV feed: stored, then an import job enqueued);
- POST /api/v1/updates/sync/ (the old way: the same feed imported inside the request)."""

from __future__ import annotations

import statistics
import time
import urllib.error
import urllib.request

from bench import loadgen, procs
from bench.plan import Plan

SETUP = procs.PG
BOUNDARY = "benchboundary7d1f"
FEED_ROWS = 100


def _feed() -> bytes:
    lines = ["sku,name,price,currency,stock,active"]
    lines += [f"BENCH-{i:05d},Bench product {i},{i % 90 + 9}.99,EUR,{i % 40},true" for i in range(FEED_ROWS)]
    csv = ("\n".join(lines) + "\n").encode()
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"feed.csv\"\r\n"
        f"Content-Type: text/csv\r\n\r\n".encode() + csv + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def targets() -> list[loadgen.Target]:
    job = b'{"handler": "jobs.noop"}'
    multipart = f"multipart/form-data; boundary={BOUNDARY}"
    return [
        loadgen.Target("ceiling (insert one row)", "/bench/ceiling/", job, "application/json"),
        loadgen.Target("POST /api/v1/jobs/", "/api/v1/jobs/", job, "application/json"),
        loadgen.Target("POST /api/v1/updates/ (feed upload)", "/api/v1/updates/", _feed(), multipart),
        loadgen.Target("POST /api/v1/updates/sync/ (old way)", "/api/v1/updates/sync/", _feed(), multipart),
    ]


def _wait_up(port: int, server: procs.Service) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"gunicorn exited; see {server.log_path}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/jobs/", timeout=2)
            return
        except urllib.error.HTTPError:
            return  # 401: it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def _present(port: int, token: str, target: loadgen.Target) -> bool:
    """The endpoint exists here (the feed endpoints belong to the updater app)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{target.path}", data=target.body, method="POST",
                                     headers={"Content-Type": target.content_type, "Authorization": f"Token {token}"})
    try:
        urllib.request.urlopen(request, timeout=30)
        return True
    except urllib.error.HTTPError as exc:
        return exc.code != 404


def run(plan: Plan, log) -> dict:
    procs.reset_tables(SETUP)
    token = procs.agent(SETUP, "api-user")["token"]
    port = procs.free_port()
    samples: dict[tuple[str, int], list[dict]] = {}
    with procs.gunicorn(SETUP, port=port) as server:
        _wait_up(port, server)
        present = [t for t in targets() if _present(port, token, t)]
        missing = [t.path for t in targets() if t not in present]
        for target in present:  # warm every worker and thread before anything counts
            loadgen.load(port=port, token=token, target=target, connections=10, seconds=1)
        for round_ in range(plan.api_rounds):
            for connections in plan.api_connections:
                for target in present:
                    result = loadgen.load(port=port, token=token, target=target, connections=connections,
                                          seconds=plan.api_seconds)
                    samples.setdefault((target.name, connections), []).append(result)
                    log(f"  {target.name:40} c={connections:<3} round {round_ + 1}: "
                        f"{result['requests_per_s']:7.1f} req/s, p99 {result['p99_ms']:.0f} ms, "
                        f"{result['errors']} errors")
    return {"generator": loadgen.generator(), "seconds": plan.api_seconds, "rounds": plan.api_rounds,
            "feed_rows": FEED_ROWS, "missing": missing, "rows": _rows(samples, present, plan)}


def _rows(samples: dict, present: list, plan: Plan) -> list[dict]:
    ceiling = present[0].name
    rows = []
    for connections in plan.api_connections:
        for target in present:
            results = samples[(target.name, connections)]
            row = {
                "endpoint": target.name, "connections": connections,
                "requests_per_s": statistics.median(r["requests_per_s"] for r in results),
                "p50_ms": statistics.median(r["p50_ms"] for r in results),
                "p99_ms": statistics.median(r["p99_ms"] for r in results),
                "errors": sum(r["errors"] for r in results), "requests": sum(r["requests"] for r in results),
                "all_requests_per_s": [r["requests_per_s"] for r in results],
            }  # fmt: skip
            if target.name != ceiling:
                row["vs_ceiling"] = statistics.median(
                    r["requests_per_s"] / c["requests_per_s"]
                    for r, c in zip(results, samples[(ceiling, connections)])
                )
            rows.append(row)
    return rows
