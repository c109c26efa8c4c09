"""One measurement inside one configured process: `python -m bench.agent ACTION [options]`.

bench/run.py starts this with the environment of the system under test (DJANGO_SETTINGS_MODULE,
DATABASE_URL, REDIS_URL) and reads the JSON object printed on the last line of stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.agent")
    parser.add_argument("action", choices=["reset", "api-user", "session", "dbcost-product",
                                           "dbcost-djq", "idle-cost", "fill", "enqueue-rate", "reads",
                                           "drop-queued", "queue-fill", "queue-shares"])
    parser.add_argument("--system", choices=["product", "djq", "djq-keep", "procrastinate", "celery"], default="product")
    parser.add_argument("--pgids", default="", help="process groups of the workers (pre-enqueued drain)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--latency-jobs", type=int, default=0)
    args = parser.parse_args(argv)

    if args.system not in ("celery", "procrastinate"):
        _django()
    from bench import dbcost, drive, tables

    actions = {
        "reset": lambda: tables.reset(),
        "api-user": lambda: tables.api_user(staff=True),  # the synchronous baseline is for staff
        "session": lambda: drive.session(system=args.system, n=args.n, latency_jobs=args.latency_jobs,
                                         timeout=args.timeout, pgids=[int(p) for p in args.pgids.split(",") if p]),
        "dbcost-product": lambda: {**dbcost.product_cost(jobs=args.n, batch=args.batch),
                                   "api": dbcost.api_enqueue_cost(token=tables.api_user()["token"])},
        "dbcost-djq": lambda: dbcost.djq_cost(jobs=args.n),
        "idle-cost": lambda: dbcost.idle_cost(),
        "fill": lambda: tables.fill(rows=args.n),
        "enqueue-rate": lambda: tables.enqueue_rate(n=args.n, batches=args.repeat),
        "reads": lambda: tables.reads(repeat=args.repeat),
        "drop-queued": lambda: tables.drop_queued(),
        "queue-fill": lambda: tables.queue_fill(per_queue=args.n),
        "queue-shares": lambda: tables.queue_shares(first=args.n, timeout=args.timeout),
    }
    result = actions[args.action]()
    sys.stdout.write("\n" + json.dumps(result, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
