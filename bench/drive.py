"""The producer side of the throughput and latency runs, for each system under test. It runs in a
process of its own configured like the system (settings module, database, broker), while that
system's workers run as separate processes started by bench/run.py.

How each system is known to be done with a job:
- product: its Job row is `succeeded` (polled in the database);
- bare django-q2: its monitor saved the result and acknowledged (post_execute counts in Redis,
  bench/qprobe);
- Celery: the task incremented a Redis counter (Celery keeps no record without a result backend)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from bench import probe

POLL_SECONDS = 0.02


class Timeout(Exception):
    pass


def wait_until(condition: Callable[[], bool], *, timeout: float, poll: float = POLL_SECONDS, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise Timeout(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


# --- enqueue and "done" for each system ---------------------------------------------------------


class Product:
    def __init__(self):
        from jobs.models import Job
        from jobs.services import job_enqueue

        self.Job, self.job_enqueue = Job, job_enqueue
        self.first = self.last = None

    def enqueue(self) -> int:
        pk = self.job_enqueue(handler="jobs.noop").pk
        self.first = pk if self.first is None else self.first
        self.last = pk
        return pk

    def done(self) -> int:
        Job = self.Job
        jobs = Job.objects.filter(pk__gte=self.first, pk__lte=self.last)
        failed = jobs.filter(status__in=[Job.Status.FAILED, Job.Status.CANCELLED]).count()
        if failed:
            raise RuntimeError(f"{failed} product jobs did not succeed")
        return jobs.filter(status=Job.Status.SUCCEEDED).count()

    def latency_one(self, timeout: float) -> float:
        pk = self.enqueue()
        jobs = self.Job.objects.filter(pk=pk)
        wait_until(lambda: jobs.values_list("status", flat=True)[0] == "succeeded", timeout=timeout, poll=0.005,
                   what=f"job {pk}")
        created, started = jobs.values_list("created_at", "started_at")[0]
        return (started - created).total_seconds()


class DjangoQ:
    def __init__(self):
        from django_q.tasks import async_task

        self.async_task = async_task
        probe.reset()

    def enqueue(self) -> None:
        self.async_task("bench.tasks.noop")  # exactly as a django-q2 user would, defaults and all

    def done(self) -> int:
        return probe.done()

    def latency_one(self, timeout: float) -> float:
        key, before = uuid.uuid4().hex, probe.done()
        enqueued = time.time()
        self.async_task("bench.tasks.stamp", key)
        wait_until(lambda: probe.done() > before, timeout=timeout, poll=0.002, what="django-q2 task saved")
        return probe.stamped(key) - enqueued


class CeleryRedis:
    def __init__(self):
        from bench.celery_app import noop, stamp

        self.noop, self.stamp = noop, stamp
        probe.reset()

    def enqueue(self) -> None:
        self.noop.delay()

    def done(self) -> int:
        return probe.done()

    def latency_one(self, timeout: float) -> float:
        key, before = uuid.uuid4().hex, probe.done()
        enqueued = time.time()
        self.stamp.delay(key)
        wait_until(lambda: probe.done() > before, timeout=timeout, poll=0.002, what="celery task")
        return probe.stamped(key) - enqueued


SYSTEMS = {"product": Product, "djq": DjangoQ, "djq-nores": DjangoQ, "celery": CeleryRedis}


# --- measurements ----------------------------------------------------------------------------


def throughput(*, system: str, n: int, timeout: float) -> dict:
    """Enqueue `n` no-op jobs from this one process as fast as it can, into idle running workers;
    the clock runs from the first enqueue to the moment all `n` are done."""
    target = SYSTEMS[system]()
    start = time.perf_counter()
    for _ in range(n):
        target.enqueue()
    enqueued = time.perf_counter() - start
    wait_until(lambda: target.done() >= n, timeout=timeout, what=f"{n} {system} jobs done")
    total = time.perf_counter() - start
    return {"n": n, "enqueue_s": enqueued, "total_s": total, "jobs_per_s": n / total, "enqueue_per_s": n / enqueued}


def latency(*, system: str, n: int, timeout: float) -> dict:
    """`n` jobs one at a time into idle workers: enqueue-to-start of each, in seconds. A random
    pause between jobs spreads them over the phase of any broker poll."""
    target = SYSTEMS[system]()
    samples = []
    for _ in range(n):
        samples.append(target.latency_one(timeout))
        time.sleep(random.uniform(0.02, 0.12))
    return {"n": n, "samples": samples}


WARMUP_JOBS = 20


def session(*, system: str, n: int, latency_jobs: int, timeout: float) -> dict:
    """One run against freshly started workers: a warm-up (which also waits for them to be up),
    the throughput of `n` jobs, then `latency_jobs` jobs one at a time once they are idle again."""
    throughput(system=system, n=WARMUP_JOBS, timeout=120)
    time.sleep(0.5)
    result = {"throughput": throughput(system=system, n=n, timeout=timeout)}
    if latency_jobs:
        time.sleep(1.0)
        result["latency"] = latency(system=system, n=latency_jobs, timeout=30)
    return result
