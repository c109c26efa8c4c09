"""No input gives a 500: impossible time-zone offsets, NUL and lone surrogates, JSON nested
thousands deep, wrong argument types, times far ahead. Each is a 400 naming the field."""

import pytest
from django.test import Client
from django.urls import reverse

from jobs.models import Job
from jobs.registry import _registry, handler
from tests.console.conftest import logged_in

pytestmark = pytest.mark.django_db
JOBS = reverse("api:job-list")
FAR_OFFSETS = ["2030-01-01T00:00:00+16:00", "2030-01-01T00:00:00-23:59", "0001-01-01T00:00:00+01:00"]


def errors(response) -> dict:
    return response.json()["errors"]


@pytest.mark.parametrize("value", FAR_OFFSETS)
@pytest.mark.parametrize(("url", "field"), [(JOBS, "created_after"), (JOBS, "created_before"),
                                            (reverse("api:product-list"), "updated_since")])  # fmt: skip
def test_an_offset_beyond_1559_in_an_api_date_filter_is_a_400_naming_it(staff_client, url, field, value):
    response = staff_client.get(url, {field: value})
    assert response.status_code == 400 and field in errors(response)


@pytest.mark.parametrize("value", FAR_OFFSETS)
def test_an_offset_beyond_1559_on_the_list_page_is_a_400(staff, value):
    response = logged_in(staff).get(reverse("jobs:list"), {"created_after": value})
    assert response.status_code == 400


@pytest.mark.parametrize("value", FAR_OFFSETS)
def test_an_offset_beyond_1559_in_the_admins_date_filter_is_its_invalid_lookup_notice(staff, value):
    response = logged_in(staff).get(reverse("admin:jobs_job_changelist"), {"created_at__gte": value})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_an_offset_beyond_1559_in_run_after_is_a_400(staff_client):
    response = staff_client.post(JOBS, {"handler": "jobs.noop", "run_after": FAR_OFFSETS[0]}, format="json")
    assert response.status_code == 400 and "run_after" in errors(response)


def test_an_empty_date_parameter_is_a_400_in_the_api_but_not_on_the_page(staff_client, staff):
    assert staff_client.get(JOBS, {"created_after": ""}).status_code == 400
    assert logged_in(staff).get(reverse("jobs:list"), {"created_after": ""}).status_code == 200


@pytest.mark.parametrize("text", ["a\\u0000b", "\\ud800", "ok\\udfffok"])
def test_nul_or_a_lone_surrogate_in_job_args_is_a_400(staff_client, text):
    body = '{"handler": "jobs.sleep", "args": {"seconds": 0, "note": "%s"}}' % text
    response = staff_client.post(JOBS, body, content_type="application/json")
    assert response.status_code == 400 and "args" in errors(response)
    assert not Job.objects.exists()


@pytest.mark.parametrize("text", ["a\\u0000b", "\\ud800"])
def test_nul_or_a_lone_surrogate_in_updater_rows_is_a_400(staff_client, text, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    body = '{"rows": [{"sku": "A", "name": "%s"}]}' % text
    for name in ("api:update-create", "api:update-sync"):
        response = staff_client.post(reverse(name), body, content_type="application/json")
        assert response.status_code == 400 and "rows" in errors(response)


def test_json_nested_5000_deep_is_a_400(staff_client):
    deep = "[" * 5000 + "]" * 5000
    response = staff_client.post(JOBS, '{"handler": "jobs.noop", "args": {"a": %s}}' % deep, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_json_nested_beyond_the_limit_is_a_400(staff_client, settings):
    settings.API_MAX_JSON_DEPTH = 4
    response = staff_client.post(JOBS, {"handler": "jobs.noop", "args": {"a": {"b": {"c": {}}}}}, format="json")
    assert response.status_code == 400 and "nested deeper than 4" in response.json()["detail"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"seconds": "abc"}, "seconds: Must be a number, not 'abc'."),
        ({"seconds": True}, "seconds: Must be a number"),
        ({"steps": 2.5}, "steps: Must be an integer"),
        ({"steps": None}, "steps: Must be an integer"),
    ],
)
def test_handler_args_are_checked_against_the_annotations_at_enqueue(staff_client, args, message):
    response = staff_client.post(JOBS, {"handler": "jobs.sleep", "args": args}, format="json")
    assert response.status_code == 400 and errors(response)["args"][0].startswith(message)
    assert not Job.objects.exists()


def test_an_integer_fits_a_float_parameter(staff_client):
    assert staff_client.post(JOBS, {"handler": "jobs.sleep", "args": {"seconds": 1}}, format="json").status_code == 202


@pytest.fixture
def typed_handler():
    @handler("tests.typed")
    def typed(ctx, *, names: list[str], limits: dict[str, int] | None = None, note: str | None = None) -> None:
        """Takes typed containers."""

    yield "tests.typed"
    _registry.pop("tests.typed")


@pytest.mark.parametrize(
    ("args", "ok"),
    [
        ({"names": ["a", "b"], "limits": {"x": 1}, "note": None}, True),
        ({"names": ["a", 2]}, False),
        ({"names": "a"}, False),
        ({"names": [], "limits": {"x": "1"}}, False),
        ({"names": [], "note": 3}, False),
    ],
)
def test_container_and_optional_annotations_are_checked(api_client, typed_handler, args, ok):
    response = api_client.post(JOBS, {"handler": typed_handler, "args": args}, format="json")
    assert response.status_code == (202 if ok else 400)


@pytest.mark.parametrize(("body", "field"), [({"run_after": "9999-12-31T23:59:59Z"}, "run_after"), ({"delay": 10**9}, "delay")])
def test_a_start_beyond_the_bound_is_a_400(staff_client, body, field):
    response = staff_client.post(JOBS, {"handler": "jobs.noop", **body}, format="json")
    assert response.status_code == 400 and field in errors(response)


def test_the_start_bound_is_configurable(staff_client, settings):
    settings.JOBS_MAX_DELAY_SECONDS = 60
    assert staff_client.post(JOBS, {"handler": "jobs.noop", "delay": 61}, format="json").status_code == 400
    assert staff_client.post(JOBS, {"handler": "jobs.noop", "delay": 60}, format="json").status_code == 202


@pytest.mark.parametrize("page_size", ["0", "x", "501", ""])
def test_a_bad_page_size_is_a_400_naming_it(staff_client, page_size):
    response = staff_client.get(JOBS, {"page_size": page_size})
    assert response.status_code == 400 and "page_size" in errors(response)


def test_an_unknown_api_url_is_a_json_404(staff_client):
    response = staff_client.get("/api/v1/jobs/null,null/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert Client().get("/no/such/page/").status_code == 404


def test_every_api_error_has_the_one_body(staff_client, api_client):
    answers = [
        staff_client.post(JOBS, {"handler": "no.such"}, format="json"),  # 400
        api_client.get(reverse("api:job-detail", args=[10**6])),  # 404
        Client().get(JOBS),  # 401
    ]
    for response in answers:
        assert set(response.json()) == {"code", "detail", "errors"}
