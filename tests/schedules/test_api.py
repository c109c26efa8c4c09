"""/api/v1/schedules/: who may, what they get, and every error as its status."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from jobs.models import Job, Schedule
from tests.factories import UserFactory, api_client_for, staff_with

NIGHTLY = {"name": "nightly", "handler": "jobs.noop", "cron": "0 3 * * *", "timezone": "Europe/Paris"}


@pytest.fixture
def operator(db) -> APIClient:
    return api_client_for(staff_with("add_schedule", "change_schedule", "delete_schedule"))


@pytest.fixture
def nightly(db) -> Schedule:
    from jobs import services

    return services.schedule_create(**NIGHTLY)


def test_create_answers_201_with_the_schedule_and_its_next_run(operator):
    response = operator.post(reverse("api:schedule-list"), NIGHTLY, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "nightly" and body["kind"] == "cron" and body["next_run_at"]
    assert len(body["next_runs"]) == 5 and body["last_runs"][0]["status"] == "queued"
    assert response["Location"].endswith("/api/v1/schedules/nightly/")


def test_create_with_bad_fields_answers_400_per_field(operator):
    bad = {**NIGHTLY, "handler": "jobs.sleep", "args": {"seconds": "x"}, "cron": "* *", "timezone": "Nowhere/X"}
    response = operator.post(reverse("api:schedule-list"), bad, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"args", "cron", "timezone"}
    unknown = operator.post(reverse("api:schedule-list"), {**NIGHTLY, "every": 5}, format="json")
    assert unknown.status_code == 400 and unknown.json()["errors"] == {"every": ["Unknown field."]}


def test_create_with_a_taken_name_is_400(operator, nightly):
    response = operator.post(reverse("api:schedule-list"), NIGHTLY, format="json")
    assert response.status_code == 400 and "name" in response.json()["errors"]


def test_list_and_detail(operator, nightly):
    listed = operator.get(reverse("api:schedule-list"))
    assert listed.status_code == 200 and [s["name"] for s in listed.json()["results"]] == ["nightly"]
    detail = operator.get(reverse("api:schedule-detail", args=["nightly"]))
    assert detail.status_code == 200 and detail.json()["rule"] == "cron 0 3 * * * (Europe/Paris)"


def test_unknown_schedule_is_404(operator, db):
    for method, url in [("get", "api:schedule-detail"), ("patch", "api:schedule-detail"),
                        ("delete", "api:schedule-detail"), ("post", "api:schedule-pause"),
                        ("post", "api:schedule-run-now")]:  # fmt: skip
        assert getattr(operator, method)(reverse(url, args=["nope"]), {}, format="json").status_code == 404


def test_patch_changes_the_rule_and_replants(operator, nightly):
    response = operator.patch(reverse("api:schedule-detail", args=["nightly"]), {"interval_seconds": 60,
                              "kind": "interval"}, format="json")  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["rule"] == "every 60 s"
    assert Job.objects.filter(schedule=nightly, status="queued").count() == 1


def test_patch_with_a_bad_value_is_400(operator, nightly):
    response = operator.patch(reverse("api:schedule-detail", args=["nightly"]), {"cron": "nonsense"}, format="json")
    assert response.status_code == 400 and "cron" in response.json()["errors"]


def test_pause_resume_and_run_now(operator, nightly):
    paused = operator.post(reverse("api:schedule-pause", args=["nightly"]))
    assert paused.status_code == 200 and paused.json()["paused"] and paused.json()["next_run_at"] is None
    resumed = operator.post(reverse("api:schedule-resume", args=["nightly"]))
    assert resumed.status_code == 200 and not resumed.json()["paused"] and resumed.json()["next_run_at"]
    ran = operator.post(reverse("api:schedule-run-now", args=["nightly"]))
    assert ran.status_code == 202 and Job.objects.get(pk=ran.json()["id"]).schedule_id == nightly.pk


def test_a_repeated_idempotency_key_replays_create_and_run_now_without_doing_them_again(operator, nightly):
    key = {"HTTP_IDEMPOTENCY_KEY": "run-1"}
    first = operator.post(reverse("api:schedule-run-now", args=["nightly"]), **key)
    again = operator.post(reverse("api:schedule-run-now", args=["nightly"]), **key)
    assert (again.status_code, again.json()["id"]) == (202, first.json()["id"])
    assert again["Idempotent-Replayed"] == "true"
    assert Job.objects.filter(schedule=nightly, scheduled_for__isnull=True).count() == 1  # one run now
    hourly = {**NIGHTLY, "name": "hourly", "cron": "0 * * * *"}
    created = operator.post(reverse("api:schedule-list"), hourly, format="json", HTTP_IDEMPOTENCY_KEY="add-1")
    replayed = operator.post(reverse("api:schedule-list"), hourly, format="json", HTTP_IDEMPOTENCY_KEY="add-1")
    assert (created.status_code, replayed.status_code) == (201, 201)  # not "name taken"
    assert replayed.json() == created.json()
    other = operator.post(reverse("api:schedule-list"), {**hourly, "cron": "5 * * * *"}, format="json",
                          HTTP_IDEMPOTENCY_KEY="add-1")  # fmt: skip
    assert other.status_code == 422
    assert Schedule.objects.filter(name="hourly").get().cron == "0 * * * *"


def test_run_now_while_a_run_goes_on_with_overlap_skip_is_409(operator, nightly):
    Job.objects.filter(schedule=nightly).update(status="running", attempts=1)
    assert operator.post(reverse("api:schedule-run-now", args=["nightly"])).status_code == 409


def test_delete_answers_204_and_a_builtin_409(operator, nightly):
    from jobs import services

    services.schedule_create(name="kept", handler="jobs.noop", cron="0 * * * *", builtin=True)
    assert operator.delete(reverse("api:schedule-detail", args=["kept"])).status_code == 409
    assert operator.delete(reverse("api:schedule-detail", args=["nightly"])).status_code == 204
    assert list(Schedule.objects.values_list("name", flat=True)) == ["kept"]


@pytest.mark.parametrize("who", ["anonymous", "plain", "staff without permission"])
def test_others_are_refused(who, nightly):
    user = {"anonymous": None, "plain": UserFactory(), "staff without permission": UserFactory(is_staff=True)}[who]
    client = api_client_for(user)
    expected = 401 if user is None else 403
    assert client.get(reverse("api:schedule-list")).status_code in (expected, 403)
    assert client.post(reverse("api:schedule-list"), {**NIGHTLY, "name": "x"}, format="json").status_code in (
        expected, 403)  # fmt: skip
    assert client.post(reverse("api:schedule-pause", args=["nightly"])).status_code in (expected, 403)
    assert client.delete(reverse("api:schedule-detail", args=["nightly"])).status_code in (expected, 403)
    assert Schedule.objects.get().paused_at is None


def test_staff_with_only_view_may_read_but_not_change(nightly):
    client = api_client_for(staff_with("view_schedule"))
    assert client.get(reverse("api:schedule-detail", args=["nightly"])).status_code == 200
    assert client.post(reverse("api:schedule-pause", args=["nightly"])).status_code == 403
    assert client.patch(reverse("api:schedule-detail", args=["nightly"]), {"cron": "0 4 * * *"},
                        format="json").status_code == 403  # fmt: skip


def test_list_runs_a_fixed_number_of_queries(operator, django_assert_max_num_queries):
    from jobs import services

    for n in range(5):
        services.schedule_create(name=f"s{n}", handler="jobs.noop", cron="0 3 * * *")
    with django_assert_max_num_queries(6):
        assert operator.get(reverse("api:schedule-list")).status_code == 200


def test_a_firings_job_names_its_schedule(staff_client, nightly):
    job = Job.objects.get(schedule=nightly)
    body = staff_client.get(reverse("api:job-detail", args=[job.pk])).json()
    assert body["schedule"] == "nightly" and body["scheduled_for"] == body["run_after"]
