"""Domain errors of the updater. Field errors reuse `jobs.exceptions.InvalidJob` (400 with field
messages); an oversized feed is its own error, answered 413 by `config.api`."""


class FeedTooLarge(Exception):
    """The feed exceeds settings.UPDATER_MAX_FEED_BYTES."""
