"""The feed upload page: a good feed lands on its import job's page; bad input is a 400 with the
field's message, an oversized feed a 413; nothing is stored or queued then."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs import runner
from jobs.models import Job
from tests.console.conftest import grant
from tests.factories import UserFactory
from updater.models import Feed, Product

pytestmark = pytest.mark.django_db

UPLOAD = reverse("updater:feed-upload")
CSV = b"sku,name,price,currency,stock,active\nSKU-1,Kettle,12.50,EUR,3,true\nSKU-2,Lamp,8.00,EUR,0,false\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def user(db):
    """A user who may import feeds (tests/test_permissions.py walks the others)."""
    importer = UserFactory()
    grant(importer, "add_feed", "change_product")
    return importer


def feed(content: bytes = CSV, name: str = "feed.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_upload_page_needs_login(client):
    response = client.get(UPLOAD)
    assert response.status_code == 302 and response["Location"].startswith(reverse("jobs:login"))


def test_upload_page_shows_the_form(user_web):
    html = user_web.get(UPLOAD).content.decode()
    assert 'enctype="multipart/form-data"' in html and 'name="file"' in html and 'name="chunk_size"' in html


def test_a_good_feed_lands_on_its_import_jobs_page_and_imports(user_web, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = user_web.post(UPLOAD, {"file": feed(), "chunk_size": "1"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Feed received: import job #{job.pk} is queued."]
    assert job.handler == "updater.import_feed" and job.requested_by == user and job.args["chunk_size"] == 1

    runner.run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["SKU-1", "SKU-2"]
    assert "100%" in user_web.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "file: This field is required."),
        ({"file": feed(b"")}, "file: The submitted file is empty."),
        ({"file": feed(b"\x00\x01\x02 not a feed")}, "file: "),
        ({"file": feed(b"name,price\nKettle,1\n")}, "file: "),
        ({"file": feed(), "chunk_size": "0"}, "chunk_size: Must be an integer from 1"),
        ({"file": feed(), "chunk_size": "many"}, "chunk_size: Enter a whole number."),
        ({"file": feed(), "pause_seconds": "-1"}, "pause_seconds: Must be a number from 0"),
    ],
)
def test_bad_input_is_a_400_with_the_fields_message(user_web, data, message):
    response = user_web.post(UPLOAD, data)
    assert response.status_code == 400
    assert f"<li>{message}" in response.content.decode()
    assert not Job.objects.exists() and not Feed.objects.exists()


def test_an_oversized_feed_is_a_413(user_web, settings):
    settings.UPDATER_MAX_FEED_BYTES = 50
    response = user_web.post(UPLOAD, {"file": feed()})
    assert response.status_code == 413
    assert "the limit is 50 bytes" in response.content.decode()
    assert not Job.objects.exists() and not Feed.objects.exists()
