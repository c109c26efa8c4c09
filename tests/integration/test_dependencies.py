"""Dependencies across connections: a dependency ending while its dependant is being enqueued (two
threads, each with its own connection, started together many times), and a real qcluster running a
chain. On SQLite and on PostgreSQL (DATABASE_URL)."""

import threading

import pytest
from django.db import connection

from jobs import services
from jobs.models import Job
from tests.integration.cluster import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 50


def _together(*calls) -> list:
    """Run each call in its own thread (its own database connection), released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("outcome", ["failed", "succeeded"])
def test_a_dependency_ending_while_its_dependant_is_enqueued_never_leaves_it_waiting(outcome):
    for _ in range(ROUNDS):
        upstream = services.job_start(job_id=services.job_enqueue(handler="jobs.noop").pk, cluster=None, worker="w")

        def end():
            if outcome == "failed":
                return services.job_fail(job=upstream, error={"type": "E", "message": "boom", "traceback": ""},
                                         permanent=True)  # fmt: skip
            return services.job_succeed(job=upstream, result=None)

        ended, dependant = _together(end, lambda: services.job_enqueue(handler="jobs.noop", depends_on=[upstream.pk]))
        assert ended
        dependant.refresh_from_db()
        if outcome == "failed":
            assert dependant.status == Job.Status.CANCELLED
            assert dependant.error["message"] == f"dependency #{upstream.pk} failed"
        else:
            assert dependant.status == Job.Status.QUEUED


def test_two_dependencies_succeeding_at_once_release_their_dependant():
    for _ in range(ROUNDS):
        first, second = (
            services.job_start(job_id=services.job_enqueue(handler="jobs.noop").pk, cluster=None, worker=f"w{n}")
            for n in (1, 2)
        )
        dependant = services.job_enqueue(handler="jobs.noop", depends_on=[first.pk, second.pk])
        _together(lambda: services.job_succeed(job=first, result=None),
                  lambda: services.job_succeed(job=second, result=None))  # fmt: skip
        dependant.refresh_from_db()
        assert dependant.status == Job.Status.QUEUED


@pytest.mark.integration
def test_a_cluster_runs_a_dependant_after_its_dependency_and_cancels_one_after_a_failure(worker_cluster):
    first = services.job_enqueue(handler="jobs.sleep", args={"seconds": 0.5})
    then = services.job_enqueue(handler="jobs.noop", depends_on=[first.pk])
    failing = services.job_enqueue(handler="jobs.fail", args={"message": "boom"}, max_attempts=1)
    never = services.job_enqueue(handler="jobs.noop", depends_on=[failing.pk])

    def finished(job: Job) -> bool:
        job.refresh_from_db()
        return job.is_finished

    wait_for(lambda: finished(then) and finished(never), message="both dependants to finish")
    first.refresh_from_db()
    assert (first.status, then.status) == (Job.Status.SUCCEEDED, Job.Status.SUCCEEDED)
    assert then.started_at >= first.finished_at
    assert never.status == Job.Status.CANCELLED and never.started_at is None
    assert never.error["message"] == f"dependency #{failing.pk} failed"
