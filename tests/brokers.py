"""Read what sits in the broker, whichever broker the settings chose (tests only)."""

from django.conf import settings
from django_q.brokers import get_broker
from django_q.models import OrmQ
from django_q.signing import SignedPackage


def queued_payloads(queue: str = "default") -> list[dict]:
    """The task packages waiting in `queue`, oldest first."""
    if settings.REDIS_URL:
        broker = get_broker(queue)
        return [SignedPackage.loads(raw) for raw in broker.connection.lrange(broker.list_key, 0, -1)]
    return [row.task for row in OrmQ.objects.filter(key=queue).order_by("id")]


def dispatched_job_ids(queue: str = "default") -> list[int]:
    return [task["args"][0] for task in queued_payloads(queue)]
