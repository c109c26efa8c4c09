"""Loaded by pytest before Django's settings (`-p tests.environment` in pytest.ini).

Tests run with a throwaway key and without a developer's .env DEBUG: what production runs, on SQLite
by default. Worker subprocesses inherit this environment, so they sign and verify with the same key."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-9f3c1a7e5b2d8064c4e1a9b7d3f5e2c8a6b4d0f1e3c5a7b9d1f3e5")
os.environ["DJANGO_DEBUG"] = "0"
# Production mode, but served over plain HTTP by the test client and the live servers.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
