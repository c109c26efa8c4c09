"""A `@task` is a handler like any other: its run options, the API, the console, `jobs_handlers`, and
a worker finding it by import path."""

import json
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse
from django_tasks import task_backends

from jobs.exceptions import UnknownHandler
from jobs.models import Job
from jobs.registry import all_handlers, get_handler
from tests.tasks import tasks

pytestmark = pytest.mark.django_db


def test_a_task_is_registered_under_its_import_path_with_its_options(settings):
    spec = get_handler("tests.tasks.tasks.always_fails")

    assert (spec.max_attempts, spec.timeout) == (1, 5)  # from @job_options
    assert spec.description == "Raises ValueError(message)."
    assert "tests.tasks.tasks.add" in {spec.name for spec in all_handlers()}


def test_a_task_without_options_takes_the_settings_defaults(settings):
    settings.JOBS_DEFAULT_MAX_ATTEMPTS, settings.JOBS_DEFAULT_TIMEOUT = 4, 120
    job = Job.objects.get(pk=tasks.add.enqueue(1, 2).id)
    assert (job.max_attempts, job.timeout) == (4, 120)


def test_backend_options_set_the_defaults_and_job_options_override_them(settings, fresh_module):
    options = {"timeout": 77, "max_attempts": 6}
    settings.TASKS = {"default": {"BACKEND": "jobs.tasks_backend.JobsBackend", "OPTIONS": options}}
    from tests.tasks import unimported  # a module whose tasks are defined under these settings

    assert get_handler(unimported.add.module_path).timeout == 77
    assert task_backends["default"].options == options
    assert get_handler(tasks.always_fails.module_path).timeout == 5  # its own option wins


def test_the_api_enqueues_a_task_by_name(api_client):
    body = {"handler": "tests.tasks.tasks.add", "args": {"args": [1], "kwargs": {"b": 2}}}
    response = api_client.post(reverse("api:job-list"), body, format="json")

    assert response.status_code == 202
    assert Job.objects.get(pk=response.json()["id"]).args == {"args": [1], "kwargs": {"b": 2}}


@pytest.mark.parametrize(
    "args",
    [{"a": 1, "b": 2}, {"args": [1]}, {"args": "1, 2"}, {"args": [1, 2], "kwargs": {"c": 3}}],
    ids=["plain-kwargs", "missing-argument", "args-not-a-list", "unknown-keyword"],
)
def test_the_api_refuses_task_args_the_function_does_not_take(api_client, args):
    body = {"handler": "tests.tasks.tasks.add", "args": args}
    response = api_client.post(reverse("api:job-list"), body, format="json")

    assert response.status_code == 400
    assert "args" in response.json()["errors"]
    assert not Job.objects.exists()


def test_jobs_handlers_lists_tasks(capsys):
    call_command("jobs_handlers", "--json")
    handlers = {h["name"]: h for h in json.loads(capsys.readouterr().out)}

    assert handlers["tests.tasks.tasks.always_fails"]["timeout"] == 5
    assert handlers["tests.tasks.tasks.add"]["validates"] is True


def test_the_console_filters_jobs_by_task(client, staff):
    tasks.add.enqueue(1, 2)
    client.force_login(staff)

    response = client.get(reverse("jobs:list"), {"handler": "tests.tasks.tasks.add"})

    assert response.status_code == 200
    assert "tests.tasks.tasks.add" in response.content.decode()


def test_a_worker_finds_a_task_it_never_imported_by_its_name(settings, fresh_module):
    settings.JOBS_HANDLER_MODULES = ["tests.tasks"]

    spec = get_handler("tests.tasks.unimported.add")

    assert spec.name == "tests.tasks.unimported.add"
    assert fresh_module in sys.modules


def test_a_name_that_is_no_task_is_not_called(settings, fresh_module):
    settings.JOBS_HANDLER_MODULES = ["tests.tasks"]
    from tests.tasks import unimported

    with pytest.raises(UnknownHandler):
        get_handler("tests.tasks.unimported.not_a_task")
    assert unimported.CALLS == []


@pytest.mark.parametrize("name", ["tests.tasks.untrusted.add", "os.system", "antigravity.fly", "a..b", "add"])
def test_modules_outside_the_apps_and_handler_modules_are_never_imported(settings, name):
    settings.JOBS_HANDLER_MODULES = []

    with pytest.raises(UnknownHandler):
        get_handler(name)
    assert "tests.tasks.untrusted" not in sys.modules
    assert "antigravity" not in sys.modules


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ({"OPTIONS": {"retries": 3}}, "unknown retries"),
        ({"QUEUES": ["default", "emails"]}, "must be among JOBS_QUEUES"),
    ],
    ids=["unknown-option", "unknown-queue"],
)
def test_system_checks_catch_a_misconfigured_backend(settings, backend, message):
    settings.TASKS = {"default": {"BACKEND": "jobs.tasks_backend.JobsBackend", **backend}}

    with pytest.raises(SystemCheckError, match=message):
        call_command("check")


def test_the_api_answers_400_for_a_name_outside_the_apps_and_imports_nothing(api_client):
    response = api_client.post(reverse("api:job-list"), {"handler": "antigravity.fly"}, format="json")

    assert response.status_code == 400
    assert "Unknown handler" in response.json()["errors"]["handler"][0]
    assert "antigravity" not in sys.modules
