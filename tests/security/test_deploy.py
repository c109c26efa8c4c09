"""Production mode refuses a missing, short or placeholder secret key, and `check --deploy` is clean
with the production defaults (HSTS, secure cookies, SSL redirect)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
GOOD_KEY = "prod-7c1e9a3b5d2f4068ace1b3d5f7092c4e6a8b0d2f4e6c8a0b2d4f6e8a0c2b4d6f"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**base, **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("key", [None, "", "short-but-random-Zq81", "change-me", "dev-only-" + "x" * 60, "django-insecure-" + "a1b2" * 15])
def test_production_mode_refuses_to_start_without_a_real_secret_key(key):
    env = {"DJANGO_DEBUG": "0"} | ({"DJANGO_SECRET_KEY": key} if key is not None else {})
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters" in result.stderr


def test_development_mode_starts_without_a_key():
    assert manage("check", DJANGO_DEBUG="1").returncode == 0


def test_check_deploy_is_clean_with_the_production_defaults():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_defaults_are_https_and_each_can_be_turned_off():
    code = ("from django.conf import settings as s; "
            "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)")
    on = manage("shell", "-c", code, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=GOOD_KEY)
    assert on.stdout.strip().splitlines()[-1] == "True True True True"
    off = manage("shell", "-c", code, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_SECURE_SSL_REDIRECT="0",
                 DJANGO_SECURE_COOKIES="0", DJANGO_SECURE_HSTS_SECONDS="0")  # fmt: skip
    assert off.stdout.strip().splitlines()[-1] == "False False False False"
