"""Waking idle clusters. On PostgreSQL a NOTIFY sent inside the enqueueing transaction reaches every
listening pusher at commit (never on rollback; duplicates in one transaction fold into one). SQLite has
no LISTEN: its pushers poll a cheap indexed query instead.

A committing transaction that notified takes PostgreSQL's global notify lock, so notifying commits
cannot share a WAL flush (measured: 0.21x the inserts per second at 10 threads). Each process therefore
notifies a queue at most once per NOTIFY_DEBOUNCE_SECONDS; a pusher woken by a notification keeps
looking for SETTLE_SECONDS (longer than the debounce) before it waits again, so it also finds the jobs
whose notification was folded into that one."""

import threading
import time

from django.db import connection

CHANNEL = "jobs_queue"  # the payload is the queue name
NOTIFY_SQL = "pg_notify('" + CHANNEL + "', %s)"
NOTIFY_DEBOUNCE_SECONDS = 0.005
SETTLE_SECONDS = 0.02  # > NOTIFY_DEBOUNCE_SECONDS plus a commit's lag

_last_notified: dict[str, float] = {}
_lock = threading.Lock()


def notify_due(queue: str) -> bool:
    """Whether this enqueue should notify `queue` (PostgreSQL only; at most once per debounce interval
    per process), and if so, count it as sent."""
    if connection.vendor != "postgresql":
        return False
    now = time.monotonic()
    with _lock:
        if now - _last_notified.get(queue, 0.0) < NOTIFY_DEBOUNCE_SECONDS:
            return False
        _last_notified[queue] = now
        return True


def notify_queue(queue: str) -> None:
    """Tell the listening clusters now that `queue` has work (a resume, a retry, a new limit)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {NOTIFY_SQL}", [queue])


def notify_queues(queues: list[str]) -> None:
    """`notify_queue` for several queues in one statement."""
    if connection.vendor == "postgresql" and queues:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {NOTIFY_SQL.replace('%s', 'q')} FROM unnest(%s::text[]) AS q", [list(queues)])
