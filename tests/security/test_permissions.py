"""Every door, every role: the API, the pages, the admin and the commands apply the one permission
model of jobs.permissions and updater.permissions (the table in docs/SECURITY.md)."""

import pytest
from django.test import Client
from django.urls import reverse

from jobs.models import Job
from tests.commands.call import run_command
from tests.factories import JobFactory, api_client_for
from tests.security.conftest import ROLES, make_user
from updater.models import Feed

pytestmark = pytest.mark.django_db

# Outcomes, one per role in ROLES order: anonymous, owner, other_user, staff_without_permissions,
# operator (staff with jobs.view_job only), staff_with_permissions, superuser.
DOORS = {
    "api_job_detail": [401, 200, 404, 404, 200, 200, 200],
    "api_job_retry": [401, 202, 404, 404, 403, 202, 202],
    "api_job_cancel": [401, 202, 404, 404, 403, 202, 202],
    "page_job_retry": ["login", "done", 404, 404, "refused", "done", "done"],
    "page_job_cancel": ["login", "done", 404, 404, "refused", "done", "done"],
    "admin_job_retry": ["login", "login", "login", 403, "refused", "done", "done"],
    "api_enqueue_sleep": [401, 403, 403, 202, 202, 202, 202],
    "api_batch_sleep": [401, 403, 403, 202, 202, 202, 202],
    "api_retry_matching": [401, "202:1", "202:0", "202:0", 403, "202:1", "202:1"],
    "api_cancel_matching": [401, "202:1", "202:0", "202:0", 403, "202:1", "202:1"],
    "api_enqueue_noop": [401, 202, 202, 202, 202, 202, 202],
    "api_enqueue_import_feed": [401, 403, 403, 403, 403, 202, 202],
    "api_feed_import": [401, 403, 403, 403, 403, 202, 202],
    "api_feed_import_sync": [401, 403, 403, 403, 403, 200, 200],
    "page_feed_upload": ["login", 403, 403, 403, 403, "done", "done"],
}
CASES = [(door, role, outcome) for door, outcomes in DOORS.items() for role, outcome in zip(ROLES, outcomes)]


def web(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def job_state(job: Job, *, action: str) -> str:
    job.refresh_from_db()
    changed = job.status == Job.Status.QUEUED if action == "retry" else job.status == Job.Status.CANCELLED
    return "done" if changed else "unchanged"


def page_action(user, owner, action: str):
    job = JobFactory(requested_by=owner, status=Job.Status.FAILED if action == "retry" else Job.Status.QUEUED)
    response = web(user).post(reverse(f"jobs:{action}", args=[job.pk]))
    if response.status_code == 302 and response["Location"].startswith(reverse("jobs:login")):
        return "login"
    if response.status_code != 302:
        return response.status_code
    return "done" if job_state(job, action=action) == "done" else "refused"


def admin_retry(user, owner):
    job = JobFactory(requested_by=owner, status=Job.Status.FAILED)
    response = web(user).post(reverse("admin:jobs_job_changelist"), {"action": "retry_selected", "_selected_action": [job.pk]})
    if response.status_code == 302 and "/admin/login/" in response["Location"]:
        return "login"
    if response.status_code == 403:
        return 403
    return "done" if job_state(job, action="retry") == "done" else "refused"


def api_job(user, owner, action: str):
    job = JobFactory(requested_by=owner, status=Job.Status.FAILED if action == "retry" else Job.Status.QUEUED)
    client = api_client_for(user)
    if action == "detail":
        return client.get(reverse("api:job-detail", args=[job.pk])).status_code
    response = client.post(reverse(f"api:job-{action}", args=[job.pk]))
    expected = "done" if response.status_code == 202 else "unchanged"
    assert job_state(job, action=action) == expected
    return response.status_code


def api_enqueue(user, owner, handler: str):
    args = {"feed_id": Feed.objects.create(format="csv", size=1, file="feeds/x.csv").pk} if handler == "updater.import_feed" else {}
    response = api_client_for(user).post(reverse("api:job-list"), {"handler": handler, "args": args}, format="json")
    assert Job.objects.filter(handler=handler).exists() == (response.status_code == 202)
    return response.status_code


def api_batch(user, owner, handler: str):
    response = api_client_for(user).post(reverse("api:job-batch"), {"jobs": [{"handler": handler}]}, format="json")
    assert Job.objects.filter(handler=handler).exists() == (response.status_code == 202)
    return response.status_code


def api_matching(user, owner, action: str):
    """Bulk by filter over the owner's one job: the status, and with 202 how many were done."""
    job = JobFactory(requested_by=owner, status=Job.Status.FAILED if action == "retry" else Job.Status.QUEUED)
    response = api_client_for(user).post(reverse(f"api:job-{action}-matching"), {"handler": job.handler}, format="json")
    if response.status_code != 202:
        assert job_state(job, action=action) == "unchanged"
        return response.status_code
    assert job_state(job, action=action) == ("done" if response.json()["done"] else "unchanged")
    return f"202:{response.json()['done']}"


def api_feed(user, owner, name: str):
    response = api_client_for(user).post(reverse(name), {"rows": [{"sku": "A", "price": "1.00"}]}, format="json")
    return response.status_code


def page_upload(user, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("feed.csv", b"sku,price\nA,1.00\n", content_type="text/csv")
    response = web(user).post(reverse("updater:feed-upload"), {"file": upload})
    if response.status_code == 302:
        return "login" if response["Location"].startswith(reverse("jobs:login")) else "done"
    return response.status_code


WALK = {
    "api_job_detail": lambda u, o: api_job(u, o, "detail"),
    "api_job_retry": lambda u, o: api_job(u, o, "retry"),
    "api_job_cancel": lambda u, o: api_job(u, o, "cancel"),
    "page_job_retry": lambda u, o: page_action(u, o, "retry"),
    "page_job_cancel": lambda u, o: page_action(u, o, "cancel"),
    "admin_job_retry": admin_retry,
    "api_enqueue_sleep": lambda u, o: api_enqueue(u, o, "jobs.sleep"),
    "api_batch_sleep": lambda u, o: api_batch(u, o, "jobs.sleep"),
    "api_retry_matching": lambda u, o: api_matching(u, o, "retry"),
    "api_cancel_matching": lambda u, o: api_matching(u, o, "cancel"),
    "api_enqueue_noop": lambda u, o: api_enqueue(u, o, "jobs.noop"),
    "api_enqueue_import_feed": lambda u, o: api_enqueue(u, o, "updater.import_feed"),
    "api_feed_import": lambda u, o: api_feed(u, o, "api:update-create"),
    "api_feed_import_sync": lambda u, o: api_feed(u, o, "api:update-sync"),
    "page_feed_upload": page_upload,
}


@pytest.mark.parametrize(("door", "role", "outcome"), CASES, ids=[f"{d}-{r}" for d, r, _ in CASES])
def test_each_role_gets_what_the_permission_table_says_at_each_door(door, role, outcome, owner):
    assert WALK[door](make_user(role, owner), owner) == outcome


def test_commands_act_as_the_system_on_anyones_job(owner):
    job = JobFactory(requested_by=owner, status=Job.Status.FAILED)
    assert run_command("jobs_retry", str(job.pk)).code == 0
    assert job_state(job, action="retry") == "done"


def test_a_refused_api_answer_has_the_error_body(owner):
    operator = make_user("operator", owner)
    job = JobFactory(requested_by=owner, status=Job.Status.FAILED)
    body = api_client_for(operator).post(reverse("api:job-retry", args=[job.pk])).json()
    assert body["code"] == "permission_denied" and "retry" in body["detail"] and body["errors"] == {}
