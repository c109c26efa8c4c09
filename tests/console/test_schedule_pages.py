"""The schedule pages under /jobs/schedules/: who sees them (staff with a Schedule permission), the
list's filters and query budget, a schedule's page, its Pause / Resume / Run now buttons (POST, CSRF,
refused with a message without jobs.change_schedule), the navigation link, and "fired by" on a job."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import services
from jobs.models import Job, Schedule
from tests.console.conftest import staff_web_with

pytestmark = pytest.mark.django_db

LIST = reverse("jobs:schedules")


def make(name: str = "nightly", **fields) -> Schedule:
    return services.schedule_create(name=name, **{"handler": "jobs.noop", "cron": "0 3 * * *", **fields})


def detail(name: str = "nightly") -> str:
    return reverse("jobs:schedule-detail", args=[name])


def action(verb: str, name: str = "nightly") -> str:
    return reverse(f"jobs:schedule-{verb}", args=[name])


def fired(schedule: Schedule, status: str = Job.Status.SUCCEEDED) -> Job:
    job = Job.objects.get(schedule=schedule, status=Job.Status.QUEUED, scheduled_for__isnull=False)
    Job.objects.filter(pk=job.pk).update(status=status, attempts=1, started_at=timezone.now())
    return job


def said(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("url", [LIST, detail()])
def test_anonymous_is_sent_to_login(client, url):
    make()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("jobs:login") + "?next=")


@pytest.mark.parametrize("url", [LIST, detail(), detail("no-such")])
def test_a_plain_user_and_staff_without_a_schedule_permission_get_403(user_web, operator_web, url):
    make()
    assert user_web.get(url).status_code == 403
    assert operator_web.get(url).status_code == 403


@pytest.mark.parametrize("verb", ["pause", "resume", "run-now"])
def test_actions_are_refused_to_those_who_may_not_see_schedules(client, user_web, operator_web, verb):
    make()
    assert client.post(action(verb)).status_code == 302  # to the login
    assert user_web.post(action(verb)).status_code == 403
    assert operator_web.post(action(verb)).status_code == 403
    assert Schedule.objects.get().paused_at is None and Job.objects.count() == 1


def test_view_only_staff_sees_the_pages_without_buttons_and_is_refused_with_a_message():
    make()
    web = staff_web_with("view_schedule")
    assert web.get(LIST).status_code == 200
    html = web.get(detail()).content.decode()
    assert "nightly" in html and 'data-action="pause"' not in html and 'data-action="run-now"' not in html
    response = web.post(action("pause"))
    assert response.status_code == 302 and response["Location"] == detail()
    assert said(response) == [("error", "You do not have permission to change schedules.")]
    assert Schedule.objects.get().paused_at is None


def test_list_shows_rule_next_run_last_outcome_and_state_in_few_queries(admin_web, django_assert_max_num_queries):
    for n in range(10):
        fired(make(f"s-{n}", timezone="Europe/Paris"), Job.Status.FAILED)
    make("every", cron="", interval_seconds=90)
    services.schedule_pause(schedule=make("quiet"))
    with django_assert_max_num_queries(5):
        response = admin_web.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "cron 0 3 * * * (Europe/Paris)" in html and "every 90 s" in html
    assert html.count('class="badge badge-failed"') == 10
    last = Job.objects.get(schedule__name="s-0")
    assert reverse("jobs:detail", args=[last.pk]) in html
    assert 'data-schedule="quiet"' in html and ">paused</span>" in html
    assert f'{Schedule.objects.get(name="every").next_run_at:%Y-%m-%d %H:%M:%S}' in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"kind": "interval"}, ["every"]),
        ({"state": "paused"}, ["quiet"]),
        ({"state": "enabled"}, ["every", "nightly", "sleepy"]),
        ({"handler": "jobs.sleep"}, ["sleepy"]),
        ({"q": "NIGH"}, ["nightly"]),
        ({"q": "sleep"}, ["sleepy"]),
    ],
)
def test_list_filters(admin_web, query, expected):
    make("nightly")
    make("every", cron="", interval_seconds=60)
    make("sleepy", handler="jobs.sleep")
    services.schedule_pause(schedule=make("quiet"))
    response = admin_web.get(LIST, query)
    assert [s.name for s in response.context["schedules"]] == expected


def test_a_bad_filter_is_a_400_with_its_message(admin_web):
    response = admin_web.get(LIST, {"kind": "hourly"})
    assert response.status_code == 400 and "kind: Select a valid choice" in response.content.decode()


def test_detail_shows_rule_options_next_runs_and_latest_firings(admin_web):
    schedule = make(timezone="Europe/Paris", args={}, jitter_seconds=5)
    job = fired(schedule)
    services.schedule_plant(schedule=schedule)
    html = admin_web.get(detail()).content.decode()
    assert "cron 0 3 * * * (Europe/Paris)" in html and "5 s" in html
    assert html.count("<li><time") == 5
    assert f'href="{reverse("jobs:detail", args=[job.pk])}"' in html and 'class="badge badge-succeeded"' in html
    assert 'data-action="pause"' in html and 'data-action="run-now"' in html


def test_an_unknown_schedule_is_a_404(admin_web):
    assert admin_web.get(detail("no-such")).status_code == 404
    assert admin_web.post(action("pause", "no-such")).status_code == 404


@pytest.mark.parametrize("verb", ["pause", "resume", "run-now"])
def test_actions_are_post_only(admin_web, verb):
    make()
    assert admin_web.get(action(verb)).status_code == 405


def test_actions_need_the_csrf_token(staff):
    make()
    web = Client(enforce_csrf_checks=True)
    staff.save()
    web.force_login(staff)
    assert web.post(action("pause")).status_code == 403
    assert Schedule.objects.get().paused_at is None


def test_pause_and_resume_through_the_services_and_back_to_the_page():
    schedule = make()
    web = staff_web_with("change_schedule")
    response = web.post(action("pause"), {"next": LIST})
    assert response.status_code == 302 and response["Location"] == LIST
    assert said(response) == [("success", "Schedule nightly paused: it fires no more until resumed.")]
    schedule.refresh_from_db()
    assert schedule.is_paused and not Job.objects.filter(schedule=schedule).exists()

    response = web.post(action("resume"), {"next": "https://evil.example/"})
    assert response["Location"] == detail()  # only a local `next`
    schedule.refresh_from_db()
    assert said(response)[-1] == ("success",  f"Schedule nightly resumed: next run {schedule.next_run_at:%Y-%m-%d %H:%M:%S} UTC.")
    assert Job.objects.filter(schedule=schedule, status=Job.Status.QUEUED).count() == 1


def test_run_now_queues_a_firing_requested_by_the_user(staff, admin_web):
    schedule = make()
    response = admin_web.post(action("run-now"))
    run = Job.objects.get(schedule=schedule, scheduled_for__isnull=True)
    assert run.requested_by == staff and run.status == Job.Status.QUEUED
    assert said(response) == [("success", f"Schedule nightly: job #{run.pk} queued now.")]
    html = admin_web.get(detail()).content.decode()
    assert f'data-run="{run.pk}"' in html and "run now" in html


def test_run_now_refused_by_the_overlap_policy_is_an_error_message(admin_web):
    fired(make(), Job.Status.RUNNING)
    response = admin_web.post(action("run-now"))
    assert said(response) == [("error", "Schedule 'nightly' has a run still going (overlap policy: skip).")]
    assert not Job.objects.filter(scheduled_for__isnull=True).exists()


def test_navigation_and_dashboard_link_to_schedules_only_for_those_who_may_see_them(admin_web, user_web, operator_web):
    href = f'href="{LIST}"'
    assert href in admin_web.get(reverse("jobs:list")).content.decode()
    assert 'data-link="schedules"' in admin_web.get(reverse("jobs:dashboard")).content.decode()
    assert href not in user_web.get(reverse("jobs:list")).content.decode()
    html = operator_web.get(reverse("jobs:dashboard")).content.decode()
    assert href not in html and 'data-link="schedules"' not in html


def test_a_jobs_page_says_which_schedule_fired_it(admin_web, operator_web):
    schedule = make()
    firing = Job.objects.get(schedule=schedule)
    html = admin_web.get(reverse("jobs:detail", args=[firing.pk])).content.decode()
    assert f'Fired by schedule <a href="{detail()}">nightly</a> for {firing.scheduled_for:%Y-%m-%d %H:%M:%S} UTC' in html
    run = services.schedule_run_now(schedule=schedule, by=None)
    html = operator_web.get(reverse("jobs:detail", args=[run.pk])).content.decode()
    assert "Fired by schedule <code>nightly</code> (run now)" in html  # no link for who may not see schedules
