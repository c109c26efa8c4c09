"""Section 5: the updater, measured by bench/updater_bench.py (its own module: our import job
against COPY + INSERT ON CONFLICT and a per-row update_or_create loop, and the worker's peak RSS).
It runs in a child process and a database of its own, so its Django setup stays out of ours."""

from __future__ import annotations

import json
import subprocess

from bench import procs
from bench.plan import Plan

CALL = "import json, sys; from bench.updater_bench import main; print(json.dumps(main(sys.argv[1:]), default=str))"


def run(plan: Plan, log) -> dict:
    if not (procs.BASE_DIR / "bench" / "updater_bench.py").exists():
        return {"skipped": "bench/updater_bench.py is not there yet"}
    base = procs.PG_URL.rpartition("/")[0]
    env = procs.env_for(procs.PG, DATABASE_URL=f"{base}/bench_updater", LOG_LEVEL="WARNING")
    proc = subprocess.run([procs.PY, "-c", CALL, *plan.updater_args], cwd=procs.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        return {"skipped": f"updater_bench failed: {proc.stderr.strip().splitlines()[-1:]}",
                "stderr": proc.stderr[-3000:]}
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            log(f"  {line}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
