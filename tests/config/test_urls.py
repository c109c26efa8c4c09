"""The OpenAPI schema as a client reads it, the docs pages and the favicon."""

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client) -> dict:
    return api_client.get(reverse("schema"), {"format": "json"}).json()


def operations(schema: dict) -> dict[str, dict]:
    return {op["operationId"]: op for ops in schema["paths"].values() for op in ops.values()}


def test_operations_have_readable_ids_and_tags(schema):
    ops = operations(schema)
    assert {"token_obtain", "jobs_list", "job_enqueue", "job_enqueue_batch", "job_get", "job_retry", "job_cancel",
            "jobs_retry_matching", "jobs_cancel_matching", "feed_import", "feed_import_sync", "products_list",
            "queues_list", "queue_pause", "queue_resume", "schedules_list", "schedule_create", "schedule_get",
            "schedule_update", "schedule_delete", "schedule_pause", "schedule_resume", "schedule_run_now"} == set(ops)  # fmt: skip
    assert {tag for op in ops.values() for tag in op["tags"]} == {"auth", "jobs", "queues", "schedules", "updater"}


def test_every_post_that_creates_work_documents_the_idempotency_key_and_its_422(schema):
    ops = operations(schema)
    for name in ("job_enqueue", "job_enqueue_batch", "feed_import", "schedule_create", "schedule_run_now"):
        assert "Idempotency-Key" in [p["name"] for p in ops[name].get("parameters", []) if p["in"] == "header"]
        assert "422" in ops[name]["responses"]
    assert "400" in ops["jobs_retry_matching"]["responses"] and "409" in ops["job_enqueue_batch"]["responses"]


def test_fields_a_system_made_row_leaves_empty_are_nullable(schema):
    # A scheduled firing has no requester, a built-in schedule no creator.
    components = schema["components"]["schemas"]
    for component, field in [
        ("Job", "requested_by"), ("JobDetail", "requested_by"), ("Schedule", "created_by"),
        ("Schedule", "paused_by"), ("Schedule", "last_run_status"), ("Schedule", "last_run_at"),
    ]:  # fmt: skip
        assert components[component]["properties"][field].get("nullable"), (component, field)


def test_the_token_endpoint_needs_no_authentication(schema):
    assert "security" not in operations(schema)["token_obtain"]
    assert operations(schema)["job_enqueue"]["security"]
    assert Client().post(reverse("api:auth-token"), {"username": "nobody", "password": "x"}).status_code == 400


def test_the_feed_upload_is_a_binary_file_field(schema):
    body = operations(schema)["feed_import"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    form = schema["components"]["schemas"][body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}


def test_forms_are_prefilled_with_examples_not_the_largest_values(schema):
    form = schema["components"]["schemas"]["UpdateCreateRequest"]["properties"]
    assert not any("maximum" in form[name] for name in ("chunk_size", "max_rows_per_second", "pause_seconds"))
    examples = operations(schema)["job_enqueue"]["requestBody"]["content"]["application/json"]["examples"]
    assert {"handler": "jobs.sleep", "args": {"seconds": 5}} in [e["value"] for e in examples.values()]


def test_redoc_is_not_served_and_swagger_is_offline(api_client):
    with pytest.raises(NoReverseMatch):
        reverse("api-redoc")
    docs = api_client.get(reverse("api-docs")).content.decode()
    assert "drf_spectacular_sidecar" in docs and "googleapis" not in docs and "cdn" not in docs.lower()


def test_favicon_is_served_and_linked_from_every_page(client, staff):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/static/favicon.svg")
    client.force_login(staff)
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get(reverse("jobs:dashboard")).content.decode()
