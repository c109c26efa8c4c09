import pytest

from jobs import services
from jobs.models import Job
from jobs.runner import run

seen: list = []


def recorder(name):
    def factory(call_next):
        def call(ctx):
            seen.append(f"{name} before {ctx.job.handler}")
            try:
                return call_next(ctx)
            except Exception as exc:
                seen.append(f"{name} saw {type(exc).__name__}: {exc}")
                raise
            finally:
                seen.append(f"{name} after")

        return call

    return factory


outer, inner = recorder("outer"), recorder("inner")


def short_circuit(call_next):
    def call(ctx):
        return {"skipped": True}

    return call


@pytest.fixture(autouse=True)
def clear():
    seen.clear()


def test_middleware_wraps_the_handler_in_order(db, settings, handler_registry):
    settings.JOBS_MIDDLEWARE = [f"{__name__}.outer", f"{__name__}.inner"]

    @handler_registry.handler("tests.mw_ok", max_attempts=1)
    def ok(ctx, *, n):
        seen.append(f"handler {n}")
        return {"n": n}

    job = services.job_enqueue(handler="tests.mw_ok", args={"n": 3})
    run(job.pk)
    assert seen == ["outer before tests.mw_ok", "inner before tests.mw_ok", "handler 3", "inner after", "outer after"]
    job.refresh_from_db()
    assert (job.status, job.result) == (Job.Status.SUCCEEDED, {"n": 3})


def test_middleware_sees_the_handlers_exception(db, settings):
    settings.JOBS_MIDDLEWARE = [f"{__name__}.outer"]
    job = services.job_enqueue(handler="jobs.fail", args={"message": "boom", "permanent": True})
    run(job.pk)
    assert seen == ["outer before jobs.fail", "outer saw PermanentJobError: boom", "outer after"]
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_a_middleware_may_answer_without_calling_the_handler(db, settings):
    settings.JOBS_MIDDLEWARE = [f"{__name__}.outer", f"{__name__}.short_circuit", f"{__name__}.inner"]
    job = services.job_enqueue(handler="jobs.fail", args={"permanent": True})
    run(job.pk)
    assert seen == ["outer before jobs.fail", "outer after"]
    job.refresh_from_db()
    assert (job.status, job.result) == (Job.Status.SUCCEEDED, {"skipped": True})


def test_an_unknown_handler_still_fails_the_job_through_the_chain(db, settings):
    settings.JOBS_MIDDLEWARE = [f"{__name__}.outer"]
    job = services.job_enqueue(handler="jobs.noop")
    Job.objects.filter(pk=job.pk).update(handler="tests.gone")
    run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error["type"] == "UnknownHandler"


def stamp_tenant(call_next):
    def call(job):
        seen.append(("before", job.pk, job.handler))
        call_next(job)
        seen.append(("after", job.pk is not None))

    return call


def refuse_sleep(call_next):
    def call(job):
        if job.handler == "jobs.sleep":
            from jobs.exceptions import PermissionDenied

            raise PermissionDenied("no sleeping on weekends")
        call_next(job)

    return call


def test_enqueue_middleware_wraps_the_insert(db, settings):
    settings.JOBS_ENQUEUE_MIDDLEWARE = [f"{__name__}.stamp_tenant"]
    job = services.job_enqueue(handler="jobs.noop")
    assert seen == [("before", None, "jobs.noop"), ("after", True)]
    assert Job.objects.filter(pk=job.pk).exists()


def test_enqueue_middleware_may_refuse(db, settings):
    from jobs.exceptions import PermissionDenied

    settings.JOBS_ENQUEUE_MIDDLEWARE = [f"{__name__}.refuse_sleep"]
    with pytest.raises(PermissionDenied):
        services.job_enqueue(handler="jobs.sleep")
    assert not Job.objects.exists()
