"""Feed uploads are refused before their body is read or stored: anonymous clients, users who may
not import, and a Content-Length over the limit; a body that turns out larger is cut at the limit."""

import io
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from jobs.models import Job
from tests.console.conftest import grant, logged_in
from tests.factories import UserFactory
from updater.models import Feed
from updater.upload_guard import FeedUploadGuardMiddleware

pytestmark = pytest.mark.django_db
CSV = b"sku,price\nA,1.00\nB,2.00\n"


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readinto = read


def guarded(path: str, user, *, length: int = 1000, **headers):
    request = RequestFactory().post(path, data=b"x", content_type="multipart/form-data; boundary=b", **headers)
    request.META["CONTENT_LENGTH"] = str(length)
    request._stream = UnreadableBody()
    request.user = user
    return FeedUploadGuardMiddleware(lambda request: pytest.fail("reached the view"))(request)


@pytest.fixture
def importer(db):
    user = UserFactory()
    grant(user, "add_feed", "change_product")
    return user


@pytest.mark.parametrize("name", ["api:update-create", "api:update-sync"])
def test_an_anonymous_api_upload_is_refused_without_reading_the_body(name):
    response = guarded(reverse(name), AnonymousUser())
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_an_anonymous_page_upload_goes_to_the_login_without_reading_the_body():
    response = guarded(reverse("updater:feed-upload"), AnonymousUser())
    assert response.status_code == 302 and response["Location"].startswith(reverse("jobs:login"))


def test_a_user_who_may_not_import_is_refused_without_reading_the_body(user):
    assert guarded(reverse("api:update-create"), user).status_code == 403
    response = guarded(reverse("updater:feed-upload"), user)
    assert response.status_code == 403 and "permission to import feeds" in response.content.decode()


def test_a_bad_token_is_answered_401_by_drf_before_the_body_is_read(client):
    response = client.post(reverse("api:update-create"), data=b"x" * 100, content_type="text/csv",
                           HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_a_content_length_over_the_limit_is_a_413_before_the_body_is_read(importer, settings):
    settings.UPDATER_MAX_FEED_BYTES = 1000
    response = guarded(reverse("api:update-create"), importer, length=10**9)
    assert response.status_code == 413 and "file" in json.loads(response.content)["errors"]
    page = guarded(reverse("updater:feed-upload"), importer, length=10**9)
    assert page.status_code == 413 and "the limit is 1,000 bytes" in page.content.decode()


def test_a_file_larger_than_its_content_length_promised_is_cut_at_the_limit(importer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.UPDATER_MAX_FEED_BYTES = 100  # Content-Length passes (the multipart slack), the file does not
    big = SimpleUploadedFile("feed.csv", b"sku,price\n" + b"A,1.00\n" * 1000, content_type="text/csv")
    response = logged_in(importer).post(reverse("updater:feed-upload"), {"file": big})
    assert response.status_code == 413 and "the upload was stopped there" in response.content.decode()
    assert not Feed.objects.exists() and not Job.objects.exists()
    assert not (tmp_path / "feeds").exists()


def test_the_api_answers_a_cut_upload_with_413(importer, settings, tmp_path):
    from rest_framework.test import APIClient

    settings.MEDIA_ROOT = tmp_path
    settings.UPDATER_MAX_FEED_BYTES = 100
    client = APIClient()
    client.force_authenticate(importer)
    big = SimpleUploadedFile("feed.csv", b"sku,price\n" + b"A,1.00\n" * 1000, content_type="text/csv")
    response = client.post(reverse("api:update-create"), {"file": big}, format="multipart")
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert not Feed.objects.exists()
