"""Helpers of the updater tests."""

import threading
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from updater.models import Feed
from updater.services import feed_store


def upload(content: str | bytes, name: str = "feed.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def stored_feed(content: str, name: str = "feed.csv") -> Feed:
    return feed_store(upload=upload(content, name))


def in_thread(target: Callable[[], None]) -> threading.Thread:
    """Run `target` in a thread with its own database connection (closed when it ends)."""

    def run() -> None:
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
