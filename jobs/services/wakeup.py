"""Waking idle clusters. On PostgreSQL a NOTIFY sent inside the enqueueing transaction reaches every
listening pusher at commit (never on rollback; duplicates in one transaction fold into one). SQLite has
no LISTEN: its pushers poll a cheap indexed query instead."""

from django.db import connection

CHANNEL = "jobs_queue"  # the payload is the queue name
NOTIFY_SQL = "pg_notify('" + CHANNEL + "', %s)"


def notify_queue(queue: str) -> None:
    """Tell the listening clusters that `queue` has work (no-op where there is no LISTEN)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {NOTIFY_SQL}", [queue])


def notify_queues(queues: list[str]) -> None:
    """`notify_queue` for several queues in one statement."""
    if connection.vendor == "postgresql" and queues:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {NOTIFY_SQL.replace('%s', 'q')} FROM unnest(%s::text[]) AS q", [list(queues)])
