"""Throttles and the login lockout.

- `TokenThrottle` (per client address) on POST /api/v1/auth/token/ and `EnqueueThrottle` (per user)
  on every POST that starts a job: DRF throttles, rates from settings (API_THROTTLE_TOKEN,
  API_THROTTLE_ENQUEUE; empty turns one off), 429 with Retry-After.
- The login lockout: `LoginLockoutBackend`, the ModelBackend in AUTHENTICATION_BACKENDS, refuses every
  password check for a username (or from an address) that failed LOGIN_MAX_FAILURES times
  (LOGIN_MAX_FAILURES_PER_ADDRESS) within LOGIN_LOCKOUT_SECONDS. It sits in `authenticate()`, so it
  guards every door that checks a password: the console's login, the admin's and the token
  endpoint. `LoginLockoutMiddleware` turns such a refusal into 429 with Retry-After. Counters live
  in the shared cache, so every web process sees them."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import SimpleRateThrottle

from config.api import error_body


class _SettingsRateThrottle(SimpleRateThrottle):
    """A DRF throttle whose rate is read from settings at request time (tests can change it)."""

    setting = ""

    def get_rate(self) -> str | None:
        return getattr(settings, self.setting, None) or None


class TokenThrottle(_SettingsRateThrottle):
    scope, setting = "token", "API_THROTTLE_TOKEN"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class EnqueueThrottle(_SettingsRateThrottle):
    """Per user (per address for the anonymous, who are refused anyway), on POST only. Superusers,
    who may do anything anyway (load tests, `simulate`), are not throttled."""

    scope, setting = "enqueue", "API_THROTTLE_ENQUEUE"

    def allow_request(self, request, view) -> bool:
        if request.method != "POST" or getattr(request.user, "is_superuser", False):
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") or "?") if request is not None else "?"


def _key(kind: str, value: str) -> str:
    return f"login-failures:{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()[:32]}"


def _keys(request, username: str | None) -> list[tuple[str, int]]:
    keys = [(_key("address", _address(request)), settings.LOGIN_MAX_FAILURES_PER_ADDRESS)]
    if username:
        keys.append((_key("user", username.lower()), settings.LOGIN_MAX_FAILURES))
    return keys


class LoginLockoutBackend(ModelBackend):
    """Django's ModelBackend behind the lockout: while a username or address is locked out, every
    password check is refused (PermissionDenied stops `authenticate()`), right or wrong."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if any(limit and (cache.get(key) or 0) >= limit for key, limit in _keys(request, username)):
            if request is not None:
                getattr(request, "_request", request).login_locked_out = True
            raise PermissionDenied("Too many failed logins.")
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs) -> None:
    if request is not None and getattr(getattr(request, "_request", request), "login_locked_out", False):
        return  # refused by the lockout: not another guess
    for key, _limit in _keys(request, credentials.get("username")):
        cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


@receiver(user_logged_in)
def _forget_failures(sender, request, user, **kwargs) -> None:
    cache.delete(_key("user", user.get_username().lower()))


class LoginLockoutMiddleware:
    """A login refused by the lockout answers 429 with Retry-After (JSON under /api/)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "login_locked_out", False):
            return response
        message = f"Too many failed logins; try again in {settings.LOGIN_LOCKOUT_SECONDS} seconds."
        if request.path.startswith("/api/"):
            response = JsonResponse(error_body(code="throttled", detail=message), status=429)
        else:
            response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(settings.LOGIN_LOCKOUT_SECONDS)
        return response


class TokenApi(ObtainAuthToken):
    """POST a username and password, get the API token (throttled per address, behind the lockout)."""

    throttle_classes = [TokenThrottle]
