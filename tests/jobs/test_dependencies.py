"""`depends_on` in the services: the status a dependant starts in, its release when its dependencies
succeed, its cancellation (down the chain) when one ends badly, batches with refs and cycles, retry."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs import runner, services
from jobs.exceptions import DuplicateJob, InvalidJob, JobStateConflict
from jobs.models import Job, JobDependency, JobEvent
from jobs.services.dependencies import MAX_DEPENDENCIES
from tests.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db


def enqueue(handler="jobs.noop", **kwargs) -> Job:
    return services.job_enqueue(handler=handler, **kwargs)


def status(job: Job) -> str:
    job.refresh_from_db()
    return job.status


def kinds(job: Job) -> list[str]:
    return list(job.events.values_list("kind", flat=True))


def test_a_job_waits_for_an_unfinished_dependency_and_is_never_reserved():
    upstream = enqueue()
    job = enqueue(depends_on=[upstream.pk])
    assert job.status == Job.Status.WAITING
    assert list(JobDependency.objects.values_list("job_id", "depends_on_id")) == [(job.pk, upstream.pk)]
    assert Job.objects.get(pk=upstream.pk).has_dependants
    reserved = services.job_reserve(cluster="c", queues=["default"], capacity=5)
    assert [pk for pk, _ in reserved] == [upstream.pk]


def test_a_job_whose_dependencies_already_succeeded_is_queued():
    done = JobFactory(status=Job.Status.SUCCEEDED)
    assert enqueue(depends_on=[done.pk, done.pk]).status == Job.Status.QUEUED  # a repeated id counts once


@pytest.mark.parametrize("ended", [Job.Status.FAILED, Job.Status.CANCELLED, Job.Status.EXPIRED])
def test_a_job_whose_dependency_ended_badly_is_cancelled_at_once_with_the_reason(ended):
    done, bad = JobFactory(status=Job.Status.SUCCEEDED), JobFactory(status=ended)
    job = enqueue(depends_on=[done.pk, bad.pk])
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.finished_at is not None
    assert job.error["message"] == f"dependency #{bad.pk} {ended}"
    assert list(job.events.values_list("kind", "message")) == [("cancelled", f"dependency #{bad.pk} {ended}")]


def test_success_of_the_last_dependency_queues_the_job():
    first, second = enqueue(), enqueue()
    job = enqueue(depends_on=[first.pk, second.pk], delay=0)
    runner.run(first.pk)
    assert status(job) == Job.Status.WAITING
    runner.run(second.pk)
    assert status(job) == Job.Status.QUEUED
    assert job.run_after <= timezone.now()
    assert kinds(job) == ["released"]
    runner.run(job.pk)
    assert status(job) == Job.Status.SUCCEEDED


def test_a_released_job_keeps_its_own_later_run_after():
    upstream = enqueue()
    job = enqueue(depends_on=[upstream.pk], delay=3600)
    runner.run(upstream.pk)
    assert status(job) == Job.Status.QUEUED
    assert job.run_after > timezone.now() + timedelta(minutes=59)


def test_a_retry_scheduled_on_the_dependency_keeps_the_job_waiting():
    upstream = enqueue("jobs.fail", args={"message": "boom"}, max_attempts=2)
    job = enqueue(depends_on=[upstream.pk])
    runner.run(upstream.pk)
    assert status(upstream) == Job.Status.QUEUED
    assert status(job) == Job.Status.WAITING


def test_a_dependency_failing_for_good_cancels_its_dependants_down_the_chain():
    upstream = enqueue("jobs.fail", args={"message": "boom"}, max_attempts=1)
    job = enqueue(depends_on=[upstream.pk])
    grandchild = enqueue(depends_on=[job.pk])
    runner.run(upstream.pk)
    assert status(upstream) == Job.Status.FAILED
    assert status(job) == Job.Status.CANCELLED
    assert job.error["message"] == f"dependency #{upstream.pk} failed"
    assert status(grandchild) == Job.Status.CANCELLED
    assert list(grandchild.events.values_list("kind", "message")) == [("cancelled", f"dependency #{job.pk} cancelled")]


def test_cancelling_a_dependency_cancels_its_waiting_dependants_and_a_waiting_job_can_be_cancelled():
    upstream = enqueue()
    job, other = enqueue(depends_on=[upstream.pk]), enqueue(depends_on=[upstream.pk])
    services.job_cancel(job=other)
    assert status(other) == Job.Status.CANCELLED
    services.job_cancel(job=upstream)
    assert status(job) == Job.Status.CANCELLED
    assert job.error["message"] == f"dependency #{upstream.pk} cancelled"
    assert list(other.events.values_list("message", flat=True)) == [""]  # cancelled once, by hand


def test_a_running_dependency_stopped_at_its_cancel_check_cancels_its_dependants():
    upstream = enqueue()
    job = enqueue(depends_on=[upstream.pk])
    started = services.job_start(job_id=upstream.pk, cluster=None, worker="w")
    services.job_finish_cancelled(job=started)
    assert status(job) == Job.Status.CANCELLED


def test_bulk_cancel_cancels_the_dependants_too(user):
    upstream = enqueue(requested_by=user)
    job = enqueue(depends_on=[upstream.pk], requested_by=user)
    outcome = services.job_cancel_matching(jobs=Job.objects.filter(pk=upstream.pk), by=user, limit=10)
    assert outcome.done == 1
    assert status(job) == Job.Status.CANCELLED


def test_an_expired_dependency_cancels_its_dependants():
    upstream = enqueue(deadline=timezone.now() + timedelta(seconds=30))
    job = enqueue(depends_on=[upstream.pk])
    assert services.job_expire_overdue(now=timezone.now() + timedelta(minutes=1)) == 1
    assert status(job) == Job.Status.CANCELLED
    assert job.error["message"] == f"dependency #{upstream.pk} expired"


def test_a_stale_dependency_that_fails_for_good_cancels_its_dependants():
    upstream = enqueue(max_attempts=1)
    job = enqueue(depends_on=[upstream.pk])
    services.job_start(job_id=upstream.pk, cluster=None, worker="w")
    assert services.job_requeue_stale(now=timezone.now() + timedelta(hours=2)) == 1
    assert status(upstream) == Job.Status.FAILED
    assert status(job) == Job.Status.CANCELLED


def test_retry_of_a_dependant_waits_again_or_is_refused_while_a_dependency_is_failed():
    upstream = enqueue("jobs.fail", args={"message": "boom"}, max_attempts=1)
    job = enqueue(depends_on=[upstream.pk])
    runner.run(upstream.pk)
    assert status(job) == Job.Status.CANCELLED
    with pytest.raises(JobStateConflict, match=f"dependency #{upstream.pk} failed"):
        services.job_retry(job=job)
    services.job_retry(job=upstream)
    assert services.job_retry(job=job).status == Job.Status.WAITING
    Job.objects.filter(pk=upstream.pk).update(status=Job.Status.SUCCEEDED)
    services.job_cancel(job=job)
    assert services.job_retry(job=job).status == Job.Status.QUEUED


def test_bulk_retry_takes_jobs_with_dependencies_one_by_one(user):
    done = JobFactory(status=Job.Status.SUCCEEDED, requested_by=user)
    failed = JobFactory(status=Job.Status.FAILED, requested_by=user)
    plain = JobFactory(status=Job.Status.FAILED, requested_by=user)
    ready = JobFactory(status=Job.Status.CANCELLED, requested_by=user)
    blocked = JobFactory(status=Job.Status.CANCELLED, requested_by=user)
    JobDependency.objects.bulk_create([JobDependency(job=ready, depends_on=done), JobDependency(job=blocked, depends_on=failed)])
    outcome = services.job_retry_matching(jobs=Job.objects.filter(pk__in=[plain.pk, ready.pk, blocked.pk]), by=user,
                                          limit=10)  # fmt: skip
    assert outcome.done == 2 and sum(outcome.skipped.values()) == 1
    assert (status(plain), status(ready), status(blocked)) == ("queued", "queued", "cancelled")


def test_depends_on_names_unknown_or_foreign_jobs_the_same_way(user):
    foreign = JobFactory(requested_by=UserFactory())
    for ids in ([foreign.pk], [987654]):
        with pytest.raises(InvalidJob) as error:
            enqueue(depends_on=ids, requested_by=user)
        assert error.value.errors == {"depends_on": [f"No job #{ids[0]} that you may see."]}
    assert Job.objects.count() == 1
    assert not Job.objects.get().has_dependants


@pytest.mark.parametrize("depends_on", [["1"], [True], [0], [1.5], "1,2", list(range(1, MAX_DEPENDENCIES + 2))])
def test_depends_on_must_be_a_short_list_of_ids(depends_on):
    with pytest.raises(InvalidJob) as error:
        enqueue(depends_on=depends_on)
    assert "depends_on" in error.value.errors


def test_a_waiting_job_holds_its_unique_key():
    upstream = enqueue()
    enqueue(depends_on=[upstream.pk], unique_key="k")
    with pytest.raises(DuplicateJob):
        enqueue(unique_key="k")


def test_the_end_of_a_job_without_dependants_costs_no_extra_statement():
    job = services.job_start(job_id=enqueue().pk, cluster=None, worker="w")
    with CaptureQueriesContext(connection) as queries:
        assert services.job_succeed(job=job, result=None)
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)  # SQLite: the event separately


def batch(*items, user=None) -> list[Job]:
    return services.job_enqueue_many(jobs=[{"handler": "jobs.noop", **item} for item in items], requested_by=user)


def test_a_batch_links_items_by_ref_before_and_after_them():
    upstream = enqueue()
    jobs = batch({"depends_on": ["b"]}, {"ref": "b", "depends_on": [upstream.pk]}, {"ref": "c"})
    assert [job.status for job in jobs] == ["waiting", "waiting", "queued"]
    links = set(JobDependency.objects.values_list("job_id", "depends_on_id"))
    assert links == {(jobs[0].pk, jobs[1].pk), (jobs[1].pk, upstream.pk)}
    runner.run(upstream.pk)
    assert (status(jobs[0]), status(jobs[1])) == ("waiting", "queued")
    runner.run(jobs[1].pk)
    assert status(jobs[0]) == Job.Status.QUEUED


def test_a_batch_item_after_a_failed_dependency_is_cancelled_and_so_are_its_dependants():
    failed = JobFactory(status=Job.Status.FAILED)
    jobs = batch({"ref": "a", "depends_on": [failed.pk]}, {"depends_on": ["a"]})
    assert [status(job) for job in jobs] == ["cancelled", "cancelled"]
    assert jobs[1].error["message"] == f"dependency #{jobs[0].pk} cancelled"
    assert list(jobs[0].events.values_list("message", flat=True)) == [f"dependency #{failed.pk} failed"]


@pytest.mark.parametrize(
    ("items", "errors"),
    [
        ([{"ref": "a", "depends_on": ["b"]}, {"ref": "b", "depends_on": ["a"]}, {}],
         {"0": {"depends_on": ["Items 0, 1 of this batch depend on each other in a cycle."]},
          "1": {"depends_on": ["Items 0, 1 of this batch depend on each other in a cycle."]}}),
        ([{"ref": "a", "depends_on": ["a"]}], {"0": {"depends_on": ["A job cannot depend on itself."]}}),
        ([{"depends_on": ["x"]}], {"0": {"depends_on": ["No item of this batch has ref 'x'."]}}),
        ([{"ref": "a"}, {"ref": "a"}], {"1": {"ref": ["Item 0 of this batch has this ref already."]}}),
        ([{"depends_on": [987654]}], {"0": {"depends_on": ["No job #987654 that you may see."]}}),
    ],
)  # fmt: skip
def test_a_batch_with_a_cycle_or_a_bad_ref_is_refused_naming_the_items(items, errors):
    with pytest.raises(InvalidJob) as error:
        batch(*items)
    assert error.value.errors == {"jobs": errors}
    assert not Job.objects.exists()


def test_a_cycle_behind_a_chain_names_only_the_items_on_or_behind_it():
    with pytest.raises(InvalidJob) as error:
        batch({"ref": "a"}, {"ref": "b", "depends_on": ["c", "a"]}, {"ref": "c", "depends_on": ["b"]})
    assert set(error.value.errors["jobs"]) == {"1", "2"}


@pytest.mark.parametrize(("ended", "settled"), [("succeeded", "queued"), ("failed", "cancelled")])
def test_the_upkeep_settles_dependants_a_dead_worker_left_waiting(ended, settled):
    upstream, other = enqueue(), JobFactory(status=Job.Status.SUCCEEDED)
    job, still = enqueue(depends_on=[upstream.pk, other.pk]), enqueue(depends_on=[enqueue().pk])
    Job.objects.filter(pk=upstream.pk).update(status=ended)  # its end committed, the settling never ran
    assert services.job_dependants_recover() == 1
    assert status(job) == settled
    assert status(still) == Job.Status.WAITING
    assert services.job_dependants_recover() == 0


def test_the_upkeeps_recover_looks_only_at_dependants_of_recently_ended_jobs():
    upstream = enqueue()
    job = enqueue(depends_on=[upstream.pk])
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=upstream.pk).update(status=Job.Status.SUCCEEDED, finished_at=an_hour_ago)
    assert services.job_dependants_recover(since=an_hour_ago + timedelta(minutes=1)) == 0
    assert status(job) == Job.Status.WAITING
    assert services.job_dependants_recover(since=an_hour_ago) == 1
    assert status(job) == Job.Status.QUEUED


def test_events_record_the_release():
    upstream = enqueue()
    job = enqueue(depends_on=[upstream.pk])
    runner.run(upstream.pk)
    assert JobEvent.objects.filter(job=job, kind=JobEvent.Kind.RELEASED, message="dependencies succeeded").exists()
