"""Domain errors. Raised once in the services, translated at each edge (API, pages, admin, commands)."""


class JobError(Exception):
    """Base of every job domain error."""


class JobNotFound(JobError):
    pass


class JobStateConflict(JobError):
    """The job's current state forbids the action (cancel a finished job, retry a running one)."""


class DuplicateJob(JobStateConflict):
    """An active job already holds this unique key."""

    def __init__(self, message: str, *, existing_id: int):
        super().__init__(message)
        self.existing_id = existing_id


class UnknownHandler(JobError):
    pass


class InvalidJob(JobError):
    """The arguments or run options fail validation; `errors` maps field names to messages."""

    def __init__(self, errors: dict):
        super().__init__(str(errors))
        self.errors = errors


class PermanentJobError(Exception):
    """Raised by a handler for input no retry can fix: the job fails at once."""


class JobCancelled(Exception):
    """Raised inside a handler by `ctx.raise_if_cancelled()` once a cancel was requested."""
