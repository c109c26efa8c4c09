"""Idempotency keys: a POST that creates work and carries an `Idempotency-Key` is done at most once per
user and key within settings.JOBS_IDEMPOTENCY_SECONDS; a repeat gets the first answer back.

The answer is stored in an `IdempotencyRecord` in the same transaction as the work, behind a unique
(user, key) index. Two requests racing with one key: the second one's INSERT waits on the first one's
row (PostgreSQL's unique index; SQLite's write lock, taken at BEGIN IMMEDIATE), then fails and reads
the committed answer. Only 2xx answers are stored: an error did no work, so the key may be used again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.exceptions import IdempotencyKeyInvalid, IdempotencyKeyReused
from jobs.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Answer:
    """What a POST answered: enough to answer a repeat the same way."""

    status_code: int
    body: object
    location: str = ""
    replayed: bool = False


def idempotency_check_key(key: str) -> None:
    """Raise IdempotencyKeyInvalid unless `key` is 1 to 255 printable ASCII characters."""
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in key):
        raise IdempotencyKeyInvalid(f"Give 1 to {MAX_KEY_LENGTH} printable ASCII characters.")


def idempotency_fingerprint(*, method: str, path: str, data: object) -> str:
    """sha256 of the request as the client meant it: method, path and body in canonical JSON."""
    text = json.dumps([method, path, data], sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def idempotency_run(*, user, key: str, fingerprint: str, work: Callable[[], Answer]) -> Answer:
    """`work()` once for (`user`, `key`) and its answer stored with it, in one transaction; a repeat
    within the window gets the stored answer (`replayed`). Raises IdempotencyKeyInvalid, and
    IdempotencyKeyReused (422) when the key answered another request; whatever `work` raises
    rolls back the work and the record alike."""
    idempotency_check_key(key)
    for _ in range(2):  # a second round only when the request we waited for rolled back
        stored = _stored(user=user, key=key, fingerprint=fingerprint)
        if stored is not None:
            return stored
        with transaction.atomic():
            IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=_cutoff()).delete()
            record = _claim(user=user, key=key, fingerprint=fingerprint)
            if record is not None:
                answer = work()
                if 200 <= answer.status_code < 300:
                    record.status_code, record.body, record.location = answer.status_code, answer.body, answer.location
                    record.save(update_fields=["status_code", "body", "location"])
                else:
                    transaction.set_rollback(True)
                return answer
    raise IdempotencyKeyReused("This key is in use by a request that has not finished; try again.")


def idempotency_prune(*, older_than: timedelta | None = None) -> int:
    """Delete records past the window (or `older_than`); returns how many went."""
    cutoff = timezone.now() - (older_than or timedelta(seconds=settings.JOBS_IDEMPOTENCY_SECONDS))
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _cutoff():
    return timezone.now() - timedelta(seconds=settings.JOBS_IDEMPOTENCY_SECONDS)


def _claim(*, user, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Our record, or None when another request holds the key (we waited until it committed)."""
    try:
        with transaction.atomic():  # a savepoint: the clash must not poison the outer transaction
            return IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint, status_code=0)
    except IntegrityError:
        return None


def _stored(*, user, key: str, fingerprint: str) -> Answer | None:
    record = IdempotencyRecord.objects.filter(user=user, key=key, created_at__gte=_cutoff()).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key for a new request."
        )
    return Answer(record.status_code, record.body, record.location, replayed=True)
