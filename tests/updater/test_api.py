"""The updater's REST API: 202 with a job, the synchronous baseline, the catalogue; never a 500."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from jobs import runner
from jobs.models import Job
from tests.updater.factories import ProductFactory
from tests.updater.helpers import upload
from updater.models import Feed, Product

pytestmark = pytest.mark.django_db

CSV = "sku,name,price,currency,stock,active\nA,Lamp,19.99,EUR,3,true\nB,Mug,-1,EUR,1,true\n"


def post_file(client, content, name="feed.csv", url="api:update-create", **fields):
    return client.post(reverse(url), {"file": upload(content, name), **fields}, format="multipart")


def test_a_feed_file_is_accepted_with_202_and_its_job(api_client):
    response = post_file(api_client, CSV, chunk_size=100)
    assert response.status_code == 202
    job = Job.objects.get()
    assert response["Location"].endswith(reverse("api:job-detail", args=[job.pk]))
    assert response.data["id"] == job.pk and response.data["status"] == "queued" and response.data["trace_id"]
    assert job.handler == "updater.import_feed" and job.requested_by == api_client.user
    feed = Feed.objects.get(pk=job.args["feed_id"])
    assert (feed.format, feed.columns, feed.uploaded_by) == ("csv", ["sku", "name", "price", "currency", "stock", "active"], api_client.user)
    assert feed.file.read().decode() == CSV  # stored, not in the job's arguments
    assert job.args == {"feed_id": feed.pk, "chunk_size": 100}


def test_the_accepted_job_imports_the_feed(api_client):
    response = post_file(api_client, CSV)
    runner.run(response.data["id"])
    detail = api_client.get(response["Location"]).json()
    assert detail["status"] == "succeeded"
    assert (detail["result"]["created"], detail["result"]["invalid"]) == (1, 1)
    assert detail["result"]["errors"] == [{"line": 3, "reason": "price: must be >= 0"}]
    assert detail["progress"]["done"] == 2


def test_the_trace_id_comes_from_traceparent(api_client):
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = api_client.post(
        reverse("api:update-create"), {"rows": [{"sku": "A"}]}, format="json", HTTP_TRACEPARENT=f"00-{trace}-00f067aa0ba902b7-01"
    )
    assert response.data["trace_id"] == trace


def test_a_json_body_of_rows_is_accepted(api_client):
    response = api_client.post(
        reverse("api:update-create"), {"rows": [{"sku": "A", "price": "0.10"}, {"sku": "B", "price": 2.5}]}, format="json"
    )
    assert response.status_code == 202
    runner.run(response.data["id"])
    assert dict(Product.objects.values_list("sku", "price")) == {"A": Decimal("0.10"), "B": Decimal("2.50")}


@pytest.mark.parametrize(
    "content, name, message",
    [
        ("", "feed.csv", "The feed is empty."),
        ("sku,price,colour\nA,1,red\n", "feed.csv", "Unknown column(s): colour."),
        ("name,price\nLamp,1\n", "feed.csv", "The sku column is missing."),
        (b"%PDF-1.7\n\x00\x01\x02binary", "feed.pdf", "not a CSV or JSON Lines file"),
        (b"\xff\xd8\xff\xe0 JFIF \xc3\x28", "photo.csv", "not UTF-8"),
        ('[{"sku": "A"}]', "feed.json", "JSON array is not JSON Lines"),
    ],
)
def test_a_bad_feed_is_refused_before_any_job(api_client, content, name, message):
    response = post_file(api_client, content, name)
    assert response.status_code == 400
    assert message in response.json()["errors"]["file"][0]
    assert not Job.objects.exists() and not Feed.objects.exists()


def test_a_feed_over_the_size_limit_is_413_before_any_job(api_client, settings):
    settings.UPDATER_MAX_FEED_BYTES = 20
    response = post_file(api_client, CSV)
    assert response.status_code == 413
    assert "limit is 20 bytes" in response.json()["errors"]["file"][0]
    assert not Job.objects.exists() and not Feed.objects.exists()


def test_a_body_too_large_to_hold_an_acceptable_feed_is_refused_from_its_length(api_client, settings):
    settings.UPDATER_MAX_FEED_BYTES = 1000
    response = post_file(api_client, "sku\n" + "A\n" * 40_000)
    assert response.status_code == 413
    assert not Feed.objects.exists()


def test_a_large_upload_is_spooled_to_disk_and_moved_into_storage(api_client, settings, tmp_path):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # anything bigger streams to a temporary file
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    content = "sku,stock\n" + "".join(f"S{n},1\n" for n in range(20_000))
    response = post_file(api_client, content)
    assert response.status_code == 202
    feed = Feed.objects.get()
    assert feed.size == len(content) and feed.file.size == len(content)


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "file"),
        ({"rows": []}, "rows"),
        ({"rows": ["A"]}, "rows"),
        ({"rows": [{"sku": "A", "colour": "red"}]}, "rows"),
        ({"rows": [{"name": "Lamp"}]}, "rows"),
        ({"rows": [{"sku": "A"}], "chunk_size": 0}, "chunk_size"),
        ({"rows": [{"sku": "A"}], "chunk_size": "many"}, "chunk_size"),
        ({"rows": [{"sku": "A"}], "max_rows_per_second": -1}, "max_rows_per_second"),
        ({"rows": [{"sku": "A"}], "pause_seconds": 99999}, "pause_seconds"),
        ({"rows": [{"sku": "A"}], "pause_seconds": False}, "pause_seconds"),
    ],
)
def test_bad_json_input_is_400_with_field_messages(api_client, body, field):
    response = api_client.post(reverse("api:update-create"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Job.objects.exists() and not Feed.objects.exists()


def test_too_many_body_rows_are_refused(api_client, monkeypatch):
    monkeypatch.setattr("updater.services.uploads.MAX_BODY_ROWS", 2)
    response = api_client.post(reverse("api:update-create"), {"rows": [{"sku": "A"}] * 3}, format="json")
    assert response.status_code == 400 and "At most 2 rows" in response.json()["errors"]["rows"][0]


def test_a_file_and_rows_together_are_refused(api_client):
    response = post_file(api_client, CSV, rows="x")
    assert response.status_code == 400


def test_sending_a_feed_needs_a_login():
    response = APIClient().post(reverse("api:update-create"), {"rows": [{"sku": "A"}]}, format="json")
    assert response.status_code in (401, 403)
    assert not Feed.objects.exists()


def test_the_synchronous_baseline_imports_inside_the_request(api_client):
    response = post_file(api_client, CSV, url="api:update-sync")
    assert response.status_code == 200
    assert (response.data["created"], response.data["invalid"]) == (1, 1)
    assert Product.objects.get(sku="A").price == Decimal("19.99")
    assert not Job.objects.exists()


def test_the_synchronous_baseline_refuses_bad_feeds_like_the_job_does(api_client, settings):
    assert post_file(api_client, "colour\nred\n", url="api:update-sync").status_code == 400
    assert api_client.post(reverse("api:update-sync"), {"rows": []}, format="json").status_code == 400
    settings.UPDATER_MAX_FEED_BYTES = 10
    assert post_file(api_client, CSV, url="api:update-sync").status_code == 413
    assert not Product.objects.exists()


def test_the_synchronous_baseline_takes_json_rows(api_client):
    response = api_client.post(reverse("api:update-sync"), {"rows": [{"sku": "A", "stock": 2}]}, format="json")
    assert response.status_code == 200 and response.data["created"] == 1


def test_products_are_listed_in_sku_order_with_a_cursor(api_client):
    for sku in ["C", "A", "B"]:
        ProductFactory(sku=sku, price=Decimal("0.10"))
    first = api_client.get(reverse("api:product-list"), {"page_size": 2}).json()
    assert [p["sku"] for p in first["results"]] == ["A", "B"]
    assert first["results"][0]["price"] == "0.10"
    second = api_client.get(first["next"]).json()
    assert [p["sku"] for p in second["results"]] == ["C"]


def test_products_filter_by_sku_active_currency_and_updated_since(api_client):
    ProductFactory(sku="OLD", active=True, currency="EUR")
    ProductFactory(sku="OFF", active=False, currency="USD")
    ProductFactory(sku="NEW", active=True, currency="EUR")
    Product.objects.filter(sku__in=["OLD", "OFF"]).update(updated_at=timezone.now() - timedelta(days=2))
    url = reverse("api:product-list")

    def skus(**params) -> list[str]:
        return [p["sku"] for p in api_client.get(url, params).json()["results"]]

    assert skus(sku="OFF") == ["OFF"]
    assert skus(active="false") == ["OFF"]
    assert skus(active="true") == ["NEW", "OLD"]
    assert skus(currency="USD") == ["OFF"]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert skus(updated_since=since) == ["NEW"]


@pytest.mark.parametrize("params, field", [({"active": "maybe"}, "active"), ({"updated_since": "yesterday"}, "updated_since")])
def test_bad_product_filters_are_400(api_client, params, field):
    response = api_client.get(reverse("api:product-list"), params)
    assert response.status_code == 400 and field in response.json()["errors"]


def test_the_product_list_has_a_query_budget(api_client, django_assert_max_num_queries):
    ProductFactory.create_batch(30)
    with django_assert_max_num_queries(3):
        assert len(api_client.get(reverse("api:product-list")).json()["results"]) == 30


def test_the_schema_documents_the_updater_endpoints(api_client):
    schema = api_client.get(reverse("schema"), {"format": "json"}).content.decode()
    paths = json.loads(schema)["paths"]
    assert {"/api/v1/updates/", "/api/v1/updates/sync/", "/api/v1/products/"} <= set(paths)
    assert paths["/api/v1/updates/sync/"]["post"].get("deprecated") is True


def test_a_json_body_over_the_request_limit_is_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api_client.post(reverse("api:update-create"), {"rows": [{"sku": f"A{n}"} for n in range(50)]}, format="json")
    assert response.status_code == 413
    assert not Feed.objects.exists()
