"""Headless Chromium through Playwright against pytest-django's live server, with a real qcluster.

Skipped, with the reason, when /usr/bin/chromium is absent (scripts/ensure_chromium.sh installs it).
Screenshots go to artifacts/browser/; with UPDATE_SCREENSHOTS=1 they are copied to docs/screenshots/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

import tests.browser.handlers  # noqa: F401  (registers the test handler in this process)
from tests.integration.cluster import worker_cluster  # noqa: F401  (fixture)

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls beside one
# unless told that the caller knows it is not really async.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
BASE_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS = BASE_DIR / "artifacts" / "browser"
DOCS_SCREENSHOTS = BASE_DIR / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-pass-123"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found: run scripts/ensure_chromium.sh (Debian chromium)")
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait up to this long unless they say otherwise: the machine may be busy, and the
    # dashboard refreshes only every 5 s.
    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in fresh browser contexts (own cookies); `java_script_enabled=False` for the no-JS path."""
    contexts = []

    def open_page(*, java_script_enabled: bool = True):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}, java_script_enabled=java_script_enabled
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def make_user(username: str, *, staff: bool = False):
    User = get_user_model()
    if staff:
        return User.objects.create_superuser(username, f"{username}@example.org", PASSWORD)
    return User.objects.create_user(username, password=PASSWORD)


def log_in(page, user) -> None:
    page.goto("/jobs/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
    return path


@pytest.fixture
def media_dir(settings, tmp_path) -> Path:
    """One media folder for the live server (this process) and the worker: feeds are files."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def worker_env(monkeypatch, media_dir, settings) -> None:
    monkeypatch.setenv("JOBS_HANDLER_MODULES", "tests.browser.handlers")
    monkeypatch.setenv("MEDIA_ROOT", str(media_dir))
    # django-q2 signs what it puts on the broker and in the stats cache with SECRET_KEY: the worker
    # must hold this process's key, whichever source (environment or .env) this process read it from.
    monkeypatch.setenv("DJANGO_SECRET_KEY", settings.SECRET_KEY)


@pytest.fixture
def worker(worker_env, worker_cluster):  # noqa: F811  (the fixture imported above)
    """A real qcluster (tests.integration.cluster) on the test database that also knows the test
    handler and shares the media folder; `worker_env` patches the environment before it starts."""
    return worker_cluster
