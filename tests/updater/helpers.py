"""Helpers of the updater tests."""

import threading
import time
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from updater.models import Feed
from updater.services import feed_store


def upload(content: str | bytes, name: str = "feed.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def stored_feed(content: str, name: str = "feed.csv") -> Feed:
    return feed_store(upload=upload(content, name))


def wait_for(condition: Callable[[], object], *, timeout: float = 20.0, what: str = "condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


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
