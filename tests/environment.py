"""Loaded by pytest before Django's settings (`-p tests.environment` in pytest.ini).

Tests run with a throwaway key and without a developer's .env DEBUG: what production runs, on SQLite
by default. Worker subprocesses inherit this environment, so they sign and verify with the same key."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-a-secret")
os.environ["DJANGO_DEBUG"] = "0"
