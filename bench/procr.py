"""procrastinate, the PostgreSQL peer: its queue is a table in the same PostgreSQL, its workers wait
on LISTEN/NOTIFY. Plain psycopg connector (no Django), every job's row kept (its default). Run as
`python -m bench.procr worker` (one process, concurrency 1: the benchmark starts two, like the
other systems' two worker processes) or `python -m bench.procr schema` (applies its schema)."""

from __future__ import annotations

import os
import sys
import time

import procrastinate

from bench import probe

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")

app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=URL, min_size=1, max_size=2))


@app.task(name="bench.noop")
def noop() -> None:
    """Does nothing; procrastinate marks the job's row succeeded."""


@app.task(name="bench.stamp")
def stamp(key: str) -> None:
    probe.stamp(key, time.time())


def main(argv: list[str]) -> int:
    if argv[:1] == ["schema"]:
        with app.open():
            app.schema_manager.apply_schema()
        return 0
    if argv[:1] == ["worker"]:
        app.run_worker(concurrency=1, listen_notify=True, wait=True, install_signal_handlers=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
