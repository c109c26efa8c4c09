"""Domain errors of the updater. Field errors reuse `jobs.exceptions.InvalidJob` (400 with field
messages); an oversized feed is a `PayloadTooLarge` on the field `file` (413)."""

from jobs.exceptions import PayloadTooLarge


class FeedTooLarge(PayloadTooLarge):
    """The feed exceeds settings.UPDATER_MAX_FEED_BYTES."""

    def __init__(self, message: str):
        super().__init__(message, field="file")
