"""`@idempotent` on an API view's `post`: honours the `Idempotency-Key` request header (see
jobs.services.idempotency). Without the header, or for an anonymous client (refused anyway), the view
runs as usual."""

from __future__ import annotations

import functools
import hashlib

from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from rest_framework.response import Response

from jobs.services.idempotency import Answer, idempotency_fingerprint, idempotency_run

HEADER = "Idempotency-Key"


def idempotent(post):
    """Wrap a view's `post(self, request, ...)` so a repeated key replays the first answer."""

    @functools.wraps(post)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return post(self, request, *args, **kwargs)
        fingerprint = idempotency_fingerprint(method=request.method, path=request.path, data=_canonical(request.data))

        def work() -> Answer:
            response = post(self, request, *args, **kwargs)
            return Answer(response.status_code, response.data, response.headers.get("Location", ""))

        answer = idempotency_run(user=request.user, key=key, fingerprint=fingerprint, work=work)
        headers = {"Location": answer.location} if answer.location else {}
        if answer.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(answer.body, status=answer.status_code, headers=headers)

    return wrapper


def _canonical(data: object) -> object:
    """The parsed body as plain JSON: a form's fields as lists, an uploaded file as its name, size and sha256."""
    if isinstance(data, QueryDict):
        return {name: [_canonical(value) for value in data.getlist(name)] for name in data}
    if isinstance(data, dict):
        return {str(name): _canonical(value) for name, value in data.items()}
    if isinstance(data, list | tuple):
        return [_canonical(value) for value in data]
    if isinstance(data, UploadedFile):
        digest = hashlib.sha256()
        for chunk in data.chunks():
            digest.update(chunk)
        data.seek(0)
        return {"file": data.name, "size": data.size, "sha256": digest.hexdigest()}
    return data
