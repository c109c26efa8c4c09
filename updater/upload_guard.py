"""Feed uploads are checked before their body is stored.

`FeedUploadGuardMiddleware` sits before the CSRF check (which would read a multipart body to find
its token) and answers, for the three feed doors (the API's updates and updates/sync, the upload
page), without reading a byte of the body:
- an anonymous client: 401 (the page: to the login page), unless it sends an Authorization header,
  left to DRF, which refuses a bad token before reading the body;
- a signed-in user who may not import feeds: 403;
- a Content-Length above the limit: 413 (the page: its form with the error).
Otherwise it installs `LimitedUploadHandler` first, which cuts a body that turns out larger than the
limit (chunked, or a lying Content-Length) at the limit and marks the request; the views then
answer 413 (`feed_check_upload_cut`)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from config.api import error_body
from updater.exceptions import FeedTooLarge
from updater.permissions import feed_may_import
from updater.services.uploads import feed_check_request_size

API_DOORS = {"api:update-create", "api:update-sync"}
PAGE_DOOR = "updater:feed-upload"


class LimitedUploadHandler(FileUploadHandler):
    """Counts the bytes of uploaded files; past the feed limit it stops the upload, so nothing more
    is read or stored, and sets `request.upload_cut`."""

    def __init__(self, request: HttpRequest, limit: int):
        super().__init__(request)
        self.limit, self.seen = limit, 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.seen += len(raw_data)
        if self.seen > self.limit:
            self.request.upload_cut = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int):
        return None


def feed_check_upload_cut(request) -> None:
    """Raise FeedTooLarge when LimitedUploadHandler cut the request's upload."""
    if getattr(getattr(request, "_request", request), "upload_cut", False):
        limit = settings.UPDATER_MAX_FEED_BYTES
        raise FeedTooLarge(f"The feed is larger than allowed: the limit is {limit:,} bytes (the upload was stopped there).")


class FeedUploadGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            door = _door(request)
            if door is not None:
                refused = _refuse(request, page=door == PAGE_DOOR)
                if refused is not None:
                    return refused
                request.upload_handlers.insert(0, LimitedUploadHandler(request, settings.UPDATER_MAX_FEED_BYTES))
        return self.get_response(request)


def _door(request: HttpRequest) -> str | None:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    name = match.view_name
    return name if name in API_DOORS or name == PAGE_DOOR else None


def _refuse(request: HttpRequest, *, page: bool) -> HttpResponse | None:
    # `_force_auth_user`: DRF's test client authenticates this way (a real request never has it).
    user = getattr(request, "_force_auth_user", None) or request.user
    if not user.is_authenticated and not page and request.META.get("HTTP_AUTHORIZATION"):
        try:
            found = TokenAuthentication().authenticate(request)
        except AuthenticationFailed:
            return None  # DRF answers it, before reading the body
        user = found[0] if found else user
    if not user.is_authenticated:
        if page:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        answer = _answer(page, 401, "not_authenticated", "Authentication credentials were not provided.", request=request)
        answer["WWW-Authenticate"] = "Token"  # as DRF answers it
        return answer
    if not feed_may_import(user):
        return _answer(page, 403, "permission_denied", "You do not have permission to import feeds.", request=request)
    try:
        feed_check_request_size(content_length=request.META.get("CONTENT_LENGTH"))
    except FeedTooLarge as exc:
        return _answer(page, 413, exc.code, str(exc), errors=exc.errors, request=request)
    return None


def _answer(page: bool, status: int, code: str, message: str, *, request: HttpRequest, errors=None) -> HttpResponse:
    if not page:
        return JsonResponse(error_body(code=code, detail=message, errors=errors), status=status)
    from updater.views import feed_upload_refused  # the page's own form shows the message

    return feed_upload_refused(request, message, status=status)
