"""`depends_on` at the edges: the API (enqueue, batch, detail), jobs_enqueue and jobs_show, the job
page and the admin."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from jobs import runner, services
from jobs.management import cli
from jobs.models import Job
from jobs.services.dependencies import MAX_DEPENDENCIES
from tests.commands.call import run_command
from tests.console.conftest import logged_in
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = reverse("api:job-list")
BATCH = reverse("api:job-batch")


def test_enqueue_with_depends_on_answers_202_waiting(api_client):
    upstream = JobFactory(requested_by=api_client.user)
    response = api_client.post(LIST, {"handler": "jobs.noop", "depends_on": [upstream.pk]}, format="json")
    assert response.status_code == 202
    assert response.json()["status"] == "waiting"
    detail = api_client.get(reverse("api:job-detail", args=[upstream.pk])).json()
    assert detail["dependants"] == [response.json()["id"]] and detail["depends_on"] == []
    detail = api_client.get(response["Location"]).json()
    assert detail["depends_on"] == [upstream.pk]
    assert detail["waiting_for"] == f"the jobs it depends on: #{upstream.pk}"


@pytest.mark.parametrize(
    ("depends_on", "message"),
    [
        ([987654], "No job #987654 that you may see."),
        (["x"], "A valid integer is required."),
        ([True], "A valid integer is required."),
        ([0], "Ensure this value is greater than or equal to 1."),
        ([2**70], "Ensure this value is less than or equal to 9223372036854775807."),
        ("12", 'Expected a list of items but got type "str".'),
        (list(range(1, MAX_DEPENDENCIES + 2)), f"Ensure this field has no more than {MAX_DEPENDENCIES} elements."),
    ],
)
def test_bad_depends_on_is_a_400_on_the_field(api_client, depends_on, message):
    response = api_client.post(LIST, {"handler": "jobs.noop", "depends_on": depends_on}, format="json")
    assert response.status_code == 400
    assert message in str(response.json()["errors"]["depends_on"])
    assert not Job.objects.exists()


def test_another_users_job_cannot_be_depended_on(api_client):
    foreign = JobFactory(requested_by=UserFactory())
    response = api_client.post(LIST, {"handler": "jobs.noop", "depends_on": [foreign.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"depends_on": [f"No job #{foreign.pk} that you may see."]}
    assert not Job.objects.get(pk=foreign.pk).has_dependants


def test_anonymous_cannot_enqueue_with_dependencies():
    upstream = JobFactory()
    response = APIClient().post(LIST, {"handler": "jobs.noop", "depends_on": [upstream.pk]}, format="json")
    assert response.status_code in (401, 403)


def test_a_batch_with_refs_answers_202(api_client):
    upstream = JobFactory(requested_by=api_client.user, status=Job.Status.SUCCEEDED)
    body = {"jobs": [{"handler": "jobs.noop", "ref": "a", "depends_on": [upstream.pk]},
                     {"handler": "jobs.noop", "depends_on": ["a"]}]}  # fmt: skip
    response = api_client.post(BATCH, body, format="json")
    assert response.status_code == 202
    assert [job["status"] for job in response.json()["jobs"]] == ["queued", "waiting"]


@pytest.mark.parametrize(
    ("jobs", "errors"),
    [
        ([{"handler": "jobs.noop", "ref": "a", "depends_on": ["b"]}, {"handler": "jobs.noop", "ref": "b", "depends_on": ["a"]}],
         {"0": {"depends_on": ["Items 0, 1 of this batch depend on each other in a cycle."]},
          "1": {"depends_on": ["Items 0, 1 of this batch depend on each other in a cycle."]}}),
        ([{"handler": "jobs.noop", "depends_on": [{"id": 1}]}],
         {"0": {"depends_on": {"0": ["Give a job id (an integer) or the ref of an item of this batch (a string)."]}}}),
        ([{"handler": "jobs.noop", "ref": ""}], {"0": {"ref": ["This field may not be blank."]}}),
    ],
)  # fmt: skip
def test_a_bad_batch_is_a_400_naming_the_items(api_client, jobs, errors):
    response = api_client.post(BATCH, {"jobs": jobs}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["jobs"] == errors
    assert not Job.objects.exists()


def test_ref_is_only_for_batches(api_client):
    response = api_client.post(LIST, {"handler": "jobs.noop", "ref": "a"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"ref": ["Unknown field."]}


def test_jobs_enqueue_depends_on():
    first, second = JobFactory(), JobFactory(status=Job.Status.SUCCEEDED)
    result = run_command("jobs_enqueue", "jobs.noop", "--depends-on", f"{first.pk},#{second.pk}")
    assert result.code == cli.OK
    job = Job.objects.get(pk=int(result.out))
    assert job.status == Job.Status.WAITING
    shown = run_command("jobs_show", str(job.pk))
    assert f"Depends on: #{first.pk} jobs.noop (queued), #{second.pk} jobs.noop (succeeded)" in shown.out
    assert f"Needed by: #{job.pk} jobs.noop (waiting)" in run_command("jobs_show", str(first.pk)).out


@pytest.mark.parametrize(("value", "code"), [("12,", cli.USAGE), ("x", cli.USAGE), ("987654", cli.INVALID)])
def test_jobs_enqueue_refuses_bad_dependencies(value, code):
    result = run_command("jobs_enqueue", "jobs.noop", "--depends-on", value)
    assert result.code == code
    assert "depends" in result.err
    assert not Job.objects.exists()


def test_the_job_page_shows_upstream_and_downstream_jobs(user):
    user_web = logged_in(user)
    upstream = services.job_enqueue(handler="jobs.noop", requested_by=user)
    job = services.job_enqueue(handler="jobs.noop", requested_by=user, depends_on=[upstream.pk])
    runner.run(upstream.pk)
    html = user_web.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    depends_on = html[html.index("data-depends-on"):html.index("data-needed-by")]
    assert f'href="{reverse("jobs:detail", args=[upstream.pk])}"' in depends_on
    assert 'data-status="succeeded"' in depends_on
    html = user_web.get(reverse("jobs:detail", args=[upstream.pk])).content.decode()
    needed_by = html[html.index("data-needed-by"):]
    assert f'href="{reverse("jobs:detail", args=[job.pk])}"' in needed_by and 'data-status="queued"' in needed_by


def test_the_admin_job_page_shows_the_dependencies(staff):
    admin_web = logged_in(staff)
    upstream = JobFactory()
    job = services.job_enqueue(handler="jobs.noop", depends_on=[upstream.pk])
    html = admin_web.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert f'href="{reverse("admin:jobs_job_change", args=[upstream.pk])}">#{upstream.pk}</a>' in html
