"""The benchmark's own counters in Redis (db 9 by default), shared by the django-q2 monitor hook,
the Celery tasks and the measuring process. Nothing of the product writes here."""

from __future__ import annotations

import os

import redis

URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
DONE = "bench:done"
STAMPS = "bench:stamps"

_client: redis.Redis | None = None


def client() -> redis.Redis:
    global _client
    if _client is None:  # one connection per process, opened on first use (after any fork)
        _client = redis.Redis.from_url(URL)
    return _client


def reset() -> None:
    client().delete(DONE, STAMPS)


def done() -> int:
    return int(client().get(DONE) or 0)


def mark_done() -> None:
    client().incr(DONE)


def stamp(key: str, at: float) -> None:
    client().hset(STAMPS, key, repr(at))


def stamped(key: str) -> float | None:
    value = client().hget(STAMPS, key)
    return float(value) if value is not None else None
