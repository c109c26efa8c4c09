"""The schedules admin: a list with rule, next run and last outcome in a bounded number of queries, a
form checked by the services' validation (each message on its field) that saves through them, bulk
pause/resume/run now, built-ins never deleted, and the Schedule model permissions."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from jobs import services
from jobs.exceptions import PermissionDenied
from jobs.models import Job, Schedule
from tests.console.conftest import staff_web_with

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:jobs_schedule_changelist")
ADD = reverse("admin:jobs_schedule_add")


def make(name: str = "nightly", **fields) -> Schedule:
    fields = {"handler": "jobs.noop", "cron": "0 3 * * *", **fields}
    return services.schedule_create(name=name, **fields)


def planted(schedule: Schedule) -> list[Job]:
    return list(Job.objects.filter(schedule=schedule, status=Job.Status.QUEUED, scheduled_for__isnull=False))


def fired(schedule: Schedule, status: str = Job.Status.SUCCEEDED) -> Job:
    """Its planted firing, as the runner leaves it after a run."""
    [job] = planted(schedule)
    Job.objects.filter(pk=job.pk).update(status=status, attempts=1, started_at=timezone.now())
    return job


def form_data(**overrides) -> dict:
    data = {
        "name": "nightly", "description": "", "handler": "jobs.noop", "args": "{}", "kind": "cron",
        "cron": "0 3 * * *", "timezone": "UTC", "interval_seconds": "", "run_at_0": "", "run_at_1": "",
        "catch_up": "once", "catch_up_limit": "10", "overlap": "skip", "jitter_seconds": "0", "queue": "",
        "priority": "", "timeout": "", "max_attempts": "", "deadline_seconds": "",
    }  # fmt: skip
    return {**data, **overrides}


def shown(response) -> list[str]:
    return [schedule.name for schedule in response.context["cl"].result_list]


def act(client, action: str, schedules: list[Schedule], **extra):
    data = {"action": action, "_selected_action": [s.pk for s in schedules], **extra}
    return client.post(CHANGELIST, data, follow=True)


def said(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_changelist_shows_rule_next_run_and_last_outcome_in_bounded_queries(admin_web, django_assert_max_num_queries):
    for n in range(12):
        schedule = make(f"cron-{n:02d}", timezone="Europe/Paris")
        fired(schedule, Job.Status.FAILED if n % 2 else Job.Status.SUCCEEDED)
    every = make("every-minute", cron="", interval_seconds=60)
    with django_assert_max_num_queries(7):  # session, user, counts and one for the list: not one per row
        response = admin_web.get(CHANGELIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "cron 0 3 * * * (Europe/Paris)" in html and "every 60 s" in html
    assert 'class="badge badge-succeeded"' in html and 'class="badge badge-failed"' in html
    last = Job.objects.filter(schedule__name="cron-00").get()
    assert reverse("admin:jobs_job_change", args=[last.pk]) in html
    assert f"{Schedule.objects.get(pk=every.pk).next_run_at:%Y}" in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"kind__exact": "interval"}, ["every"]),
        ({"state": "paused"}, ["paused"]),
        ({"state": "enabled"}, ["builtin", "every", "nightly"]),
        ({"builtin__exact": "1"}, ["builtin"]),
        ({"handler": "jobs.sleep"}, ["builtin"]),
        ({"q": "NIGHT"}, ["nightly"]),
        ({"q": "sleep"}, ["builtin"]),
    ],
)
def test_changelist_filters_and_search(admin_web, query, expected):
    make("nightly")
    make("every", cron="", interval_seconds=60)
    services.schedule_create(name="paused", handler="jobs.noop", cron="0 3 * * *", paused=True)
    services.schedule_create(name="builtin", handler="jobs.sleep", cron="0 4 * * *", builtin=True)
    assert shown(admin_web.get(CHANGELIST, query)) == expected


@pytest.mark.parametrize(
    "fields, errors",
    [
        ({"cron": "99 * * *"}, {"cron"}),
        ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ({"handler": "jobs.sleep", "args": '{"seconds": "long"}'}, {"args"}),
        ({"handler": "no.such"}, {"handler"}),
        ({"name": "Bad Name", "jitter_seconds": "99999"}, {"name", "jitter_seconds"}),
        ({"kind": "interval", "cron": "", "interval_seconds": "0"}, {"interval_seconds"}),
    ],
)
def test_add_form_refuses_bad_fields_each_on_its_own_field(admin_web, fields, errors):
    response = admin_web.post(ADD, form_data(**fields))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert set(form.errors) == errors
    assert not Schedule.objects.exists() and not Job.objects.exists()


def test_add_form_says_the_services_message(admin_web):
    response = admin_web.post(ADD, form_data(timezone="Mars/Olympus"))
    assert "Unknown time zone &#x27;Mars/Olympus&#x27;" in response.content.decode()


def test_add_creates_through_the_service_and_plants_the_first_firing(admin_web, staff):
    response = admin_web.post(ADD, form_data(timezone="Europe/Paris", args=""))
    assert response.status_code == 302
    schedule = Schedule.objects.get(name="nightly")
    assert schedule.created_by == staff and schedule.args == {} and schedule.timezone == "Europe/Paris"
    [job] = planted(schedule)
    assert job.handler == "jobs.noop" and schedule.next_run_at == job.scheduled_for


def test_add_of_a_taken_name_is_refused_on_the_name(admin_web):
    make("nightly")
    response = admin_web.post(ADD, form_data())
    assert set(response.context["adminform"].form.errors) == {"name"}
    assert Schedule.objects.count() == 1


def test_change_replants_by_the_new_rule(admin_web):
    schedule = make()
    [before] = planted(schedule)
    url = reverse("admin:jobs_schedule_change", args=[schedule.pk])
    response = admin_web.post(url, form_data(kind="interval", cron="", interval_seconds="60"))
    assert response.status_code == 302
    [after] = planted(schedule)
    assert after.pk != before.pk and not Job.objects.filter(pk=before.pk).exists()
    schedule.refresh_from_db()
    assert schedule.kind == "interval" and schedule.next_run_at == after.scheduled_for
    assert (after.scheduled_for - timezone.now()).total_seconds() <= 60


def test_change_refuses_a_bad_cron_and_keeps_the_schedule(admin_web):
    schedule = make()
    url = reverse("admin:jobs_schedule_change", args=[schedule.pk])
    response = admin_web.post(url, form_data(cron="not cron"))
    assert set(response.context["adminform"].form.errors) == {"cron"}
    schedule.refresh_from_db()
    assert schedule.cron == "0 3 * * *" and len(planted(schedule)) == 1


def test_change_page_shows_next_runs_and_latest_runs(admin_web):
    schedule = make(timezone="Europe/Paris")
    job = fired(schedule)
    services.schedule_plant(schedule=schedule)
    html = admin_web.get(reverse("admin:jobs_schedule_change", args=[schedule.pk])).content.decode()
    assert html.count("Europe/Paris)</li>") == 5  # five previews, each also in its own zone
    assert reverse("admin:jobs_job_change", args=[job.pk]) in html and 'class="badge badge-succeeded"' in html
    assert reverse("jobs:schedule-detail", args=[schedule.name]) in html


def test_bulk_pause_resume_and_run_now_call_the_services_and_count(admin_web):
    a, b = make("a"), make("b")
    response = act(admin_web, "pause_selected", [a, b])
    assert said(response) == [("success", "Paused 2 schedules: a, b.")]
    assert Schedule.objects.filter(paused_at__isnull=False).count() == 2 and not planted(a) and not planted(b)

    response = act(admin_web, "resume_selected", [a])
    assert said(response) == [("success", "Resumed 1 schedule: a.")]
    assert len(planted(a)) == 1 and not planted(b)

    response = act(admin_web, "run_now_selected", [a, b])
    runs = Job.objects.filter(scheduled_for__isnull=True).order_by("schedule__name")
    assert [job.schedule.name for job in runs] == ["a", "b"]
    assert said(response) == [("success", f"Queued a run of 2 schedules: a (job #{runs[0].pk}), b (job #{runs[1].pk}).")]


def test_run_now_refused_by_the_overlap_policy_is_an_error_and_the_others_go(admin_web):
    busy, free = make("busy"), make("free")
    fired(busy, Job.Status.RUNNING)
    response = act(admin_web, "run_now_selected", [busy, free])
    levels = dict(said(response))
    assert levels["success"].startswith("Queued a run of 1 schedule: free (job #")
    assert levels["error"].startswith("Refused 1: busy: Schedule 'busy' has a run still going")
    assert not Job.objects.filter(schedule=busy, scheduled_for__isnull=True).exists()


def test_a_builtin_cannot_be_deleted(admin_web):
    builtin = services.schedule_create(name="jobs-prune", handler="jobs.noop", cron="17 3 * * *", builtin=True)
    html = admin_web.get(reverse("admin:jobs_schedule_change", args=[builtin.pk])).content.decode()
    assert reverse("admin:jobs_schedule_delete", args=[builtin.pk]) not in html
    assert admin_web.post(reverse("admin:jobs_schedule_delete", args=[builtin.pk]), {"post": "yes"}).status_code == 403
    other = make("other")
    response = act(admin_web, "delete_selected", [builtin, other], post="yes")
    assert said(response) == [("error", "Built-in schedules are never removed (pause them instead): jobs-prune.")]
    assert Schedule.objects.count() == 2
    assert len(planted(builtin)) == 1


def test_a_builtin_keeps_its_name_on_the_change_form(admin_web):
    builtin = services.schedule_create(name="jobs-prune", handler="jobs.noop", cron="17 3 * * *", builtin=True)
    url = reverse("admin:jobs_schedule_change", args=[builtin.pk])
    response = admin_web.post(url, form_data(name="renamed", cron="18 3 * * *"))
    assert response.status_code == 302
    builtin.refresh_from_db()
    assert builtin.name == "jobs-prune" and builtin.cron == "18 3 * * *"


def test_delete_goes_through_the_service(admin_web):
    schedule = make()
    act(admin_web, "delete_selected", [schedule], post="yes")
    assert not Schedule.objects.exists() and not Job.objects.exists()


def test_anonymous_and_non_staff_are_sent_to_the_admin_login(client, user_web):
    for web in (client, user_web):
        response = web.get(CHANGELIST)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_staff_without_a_schedule_permission_is_refused(operator_web):
    schedule = make()
    assert operator_web.get(CHANGELIST).status_code == 403
    assert operator_web.get(ADD).status_code == 403
    assert operator_web.post(ADD, form_data(name="other")).status_code == 403
    response = act(operator_web, "pause_selected", [schedule])
    assert response.status_code == 403
    assert Schedule.objects.get().paused_at is None and Schedule.objects.count() == 1


def test_staff_who_may_only_view_sees_no_action_and_cannot_act(db):
    schedule = make()
    web = staff_web_with("view_schedule")
    html = web.get(CHANGELIST).content.decode()
    assert "nightly" in html and "pause_selected" not in html and "run_now_selected" not in html
    act(web, "pause_selected", [schedule])
    assert Schedule.objects.get().paused_at is None
    assert web.post(ADD, form_data(name="other")).status_code == 403
    assert web.post(reverse("admin:jobs_schedule_change", args=[schedule.pk]), form_data(cron="1 1 * * *")).status_code == 403
    assert Schedule.objects.get().cron == "0 3 * * *"


def test_staff_with_the_permissions_may_add_change_and_act(db):
    web = staff_web_with("view_schedule", "add_schedule", "change_schedule")
    assert web.post(ADD, form_data()).status_code == 302
    schedule = Schedule.objects.get()
    response = act(web, "pause_selected", [schedule])
    assert ("success", "Paused 1 schedule: nightly.") in said(response)
    assert Schedule.objects.get().is_paused
    assert "delete_selected" not in web.get(CHANGELIST).content.decode()


def test_a_handler_the_user_may_not_enqueue_is_refused_on_the_handler_field(handler_registry):
    handler_registry.register_handler("tests.guarded", lambda ctx: None, enqueue_permission="jobs.no_such_perm")
    web = staff_web_with("add_schedule")
    response = web.post(ADD, form_data(handler="tests.guarded"))
    assert response.context["adminform"].form.errors["handler"] == ["You may not enqueue 'tests.guarded'."]
    assert not Schedule.objects.exists()


def test_add_a_one_time_schedule_and_refuse_one_in_the_past(admin_web):
    response = admin_web.post(ADD, form_data(kind="once", cron="", run_at_0="2020-01-01", run_at_1="12:00:00"))
    assert response.context["adminform"].form.errors["run_at"] == ["Must be in the future."]
    future = timezone.now().year + 2
    response = admin_web.post(ADD, form_data(kind="once", cron="", run_at_0=f"{future}-01-01", run_at_1="12:00:00"))
    assert response.status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.rule == f"once at {future}-01-01 12:00:00 UTC"
    assert [job.scheduled_for for job in planted(schedule)] == [schedule.run_at]


def test_a_save_refused_by_the_service_after_the_form_checks_is_an_error_and_saves_nothing(admin_web, monkeypatch):
    create = services.schedule_create

    def refuse(**fields):
        create(name="half-done", handler="jobs.noop", cron="0 3 * * *")  # rolled back with the admin's transaction
        raise PermissionDenied("You do not have permission to add schedules.")

    monkeypatch.setattr("jobs.admin_schedules.services.schedule_create", refuse)
    response = admin_web.post(ADD, form_data())
    assert response.status_code == 302 and response["Location"] == ADD
    assert said(response) == [("error", "You do not have permission to add schedules.")]
    assert not Schedule.objects.exists() and not Job.objects.exists()
