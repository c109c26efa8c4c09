"""A real qcluster runs tasks enqueued with the standard API, finding them by import path alone."""

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus

from tests.integration.cluster import wait_for, worker_cluster  # noqa: F401  (fixture)
from tests.tasks import tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tasks_found_by_name(monkeypatch):
    # The workers import no task module at start: they resolve `tests.tasks.tasks.*` when a job names it.
    monkeypatch.setenv("JOBS_HANDLER_MODULES", "tests.tasks")


def finished(result) -> bool:
    result.refresh()
    return result.is_finished


def test_tasks_run_retry_and_wait_in_a_real_cluster(tasks_found_by_name, worker_cluster):  # noqa: F811
    run_after = timezone.now() + timezone.timedelta(seconds=2)
    deferred = tasks.add.using(run_after=run_after).enqueue(1, 1)
    added = tasks.add.enqueue(2, 3)
    flaky = tasks.flaky.enqueue(succeed_on_attempt=2)

    for result in (added, flaky, deferred):
        wait_for(lambda result=result: finished(result), timeout=60, message=f"task {result.task.name} to finish")

    assert (added.status, added.return_value, added.attempts) == (TaskResultStatus.SUCCESSFUL, 5, 1)
    assert (flaky.status, flaky.return_value, flaky.attempts) == (TaskResultStatus.SUCCESSFUL, {"attempt": 2}, 2)
    assert deferred.return_value == 2
    assert deferred.started_at >= run_after
