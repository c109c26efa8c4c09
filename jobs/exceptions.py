"""Domain errors. Raised once in the services, translated at each edge (API, pages, admin, commands).

Every domain error is a `DomainError`: it carries the HTTP-ish `status` the API answers, a stable
`code`, a message and, for bad input, `errors` mapping field names to messages. `config.api` turns
any of them into the one error body (see docs/API_ERRORS in README), without knowing the subclasses."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every domain error. Subclasses set `status` and `code`; `errors` holds field messages,
    `extra` further keys of the answer (e.g. `existing_id`), `retry_after` seconds for 429/503."""

    status: int = 400
    code: str = "invalid"
    retry_after: int | None = None

    def __init__(self, message: str = "", *, errors: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.extra = extra or {}

    def __str__(self) -> str:
        if self.message:
            return self.message
        return "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in self.errors.items())


class JobError(DomainError):
    """Base of every job domain error."""


class JobNotFound(JobError):
    status, code = 404, "not_found"


class JobStateConflict(JobError):
    """The job's current state forbids the action (cancel a finished job, retry a running one)."""

    status, code = 409, "conflict"


class DuplicateJob(JobStateConflict):
    """An active job already holds this unique key."""

    code = "duplicate"

    def __init__(self, message: str, *, existing_id: int):
        super().__init__(message, extra={"existing_id": existing_id})
        self.existing_id = existing_id


class InvalidJob(JobError):
    """The arguments or run options fail validation; `errors` maps field names to messages."""

    status, code = 400, "invalid"

    def __init__(self, errors: dict, message: str = ""):
        super().__init__(message, errors=errors)


class InvalidSchedule(InvalidJob):
    """A schedule's fields fail validation (its job's included); `errors` maps field names to messages."""


class UnknownHandler(InvalidJob):
    """No handler is registered under the name: a field error on `handler`."""

    def __init__(self, message: str):
        super().__init__({"handler": [message]}, message)


class ScheduleNotFound(DomainError):
    status, code = 404, "not_found"


class ScheduleStateConflict(DomainError):
    """The schedule's state forbids the action (remove a built-in, run now while a run goes on)."""

    status, code = 409, "conflict"


class PermissionDenied(DomainError):
    """The user may not do this (they may see the object, or it does not exist for them)."""

    status, code = 403, "permission_denied"


class QuotaExceeded(DomainError):
    """The user has too many active jobs; they may enqueue again once some finish."""

    status, code = 429, "quota_exceeded"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLarge(DomainError):
    """A request body or upload above its limit."""

    status, code = 413, "payload_too_large"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message, errors={field: [message]} if field else None)


class IdempotencyKeyInvalid(DomainError):
    """An `Idempotency-Key` header that is empty, longer than 255 characters or not printable ASCII."""

    status, code = 400, "invalid"

    def __init__(self, message: str):
        super().__init__(message, errors={"Idempotency-Key": [message]})


class IdempotencyKeyReused(DomainError):
    """An `Idempotency-Key` already answered a different request (another body or endpoint)."""

    status, code = 422, "idempotency_key_reused"

    def __init__(self, message: str):
        super().__init__(message, errors={"Idempotency-Key": [message]})


class PermanentJobError(Exception):
    """Raised by a handler for input no retry can fix: the job fails at once."""


class JobCancelled(Exception):
    """Raised inside a handler by `ctx.raise_if_cancelled()` once a cancel was requested."""
