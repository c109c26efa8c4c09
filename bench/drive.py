"""The producer side of the throughput and latency runs, for each system under test. It runs in a
process of its own configured like the system (settings module, database, broker), while that
system's workers run as separate processes started by bench/run.py.

How each system is known to be done with a job:
- product: its Job row is `succeeded` (polled in the database);
- bare django-q2: its monitor saved the result and acknowledged (post_execute counts in Redis,
  bench/qprobe);
- procrastinate: its job row is `succeeded` (polled in the database);
- Celery: the task incremented a Redis counter (Celery keeps no record without a result backend).

Pickup latency is measured the same way for every system: a wall-clock time taken right after the
enqueue call returned (committed: every enqueue here runs in autocommit), and one taken by the task
itself as it starts (the product: `bench.stamp`'s result; the others: a stamp in Redis)."""

from __future__ import annotations

import os
import random
import signal
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
        pk = self.job_enqueue(handler="bench.stamp").pk
        enqueued = time.time()
        jobs = self.Job.objects.filter(pk=pk)
        wait_until(lambda: jobs.values_list("status", flat=True)[0] == "succeeded", timeout=timeout, poll=0.005,
                   what=f"job {pk}")
        return jobs.values_list("result", flat=True)[0]["t"] - enqueued


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
        self.async_task("bench.tasks.stamp", key)
        enqueued = time.time()
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
        self.stamp.delay(key)
        enqueued = time.time()
        wait_until(lambda: probe.done() > before, timeout=timeout, poll=0.002, what="celery task")
        return probe.stamped(key) - enqueued


class Procrastinate:
    def __init__(self):
        import psycopg

        from bench.procr import URL, app, noop, stamp

        self.noop, self.stamp = noop, stamp
        app.open()  # its sync defer goes through the connector's own connections
        self.db = psycopg.connect(URL, autocommit=True)
        self.base = self._succeeded()
        probe.reset()

    def _succeeded(self) -> int:
        return self.db.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'").fetchone()[0]

    def enqueue(self) -> None:
        self.noop.defer()

    def done(self) -> int:
        failed = self.db.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'").fetchone()[0]
        if failed:
            raise RuntimeError(f"{failed} procrastinate jobs failed")
        return self._succeeded() - self.base

    def latency_one(self, timeout: float) -> float:
        key = uuid.uuid4().hex
        self.stamp.defer(key=key)
        enqueued = time.time()
        wait_until(lambda: probe.stamped(key) is not None, timeout=timeout, poll=0.002, what="procrastinate task")
        return probe.stamped(key) - enqueued


SYSTEMS = {"product": Product, "djq": DjangoQ, "djq-keep": DjangoQ, "celery": CeleryRedis,
           "procrastinate": Procrastinate}


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


def drain(*, system: str, n: int, timeout: float, pgids: list[int]) -> dict:
    """`n` no-op jobs enqueued while the (warmed-up) workers are frozen (SIGSTOP on their process
    groups), then drained: the clock runs from SIGCONT until all `n` are done."""
    target = SYSTEMS[system]()
    for pgid in pgids:
        os.killpg(pgid, signal.SIGSTOP)
    try:
        for _ in range(n):
            target.enqueue()
    finally:
        start = time.perf_counter()
        for pgid in pgids:
            os.killpg(pgid, signal.SIGCONT)
    wait_until(lambda: target.done() >= n, timeout=timeout, what=f"{n} {system} jobs drained")
    total = time.perf_counter() - start
    return {"n": n, "total_s": total, "jobs_per_s": n / total}


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


def session(*, system: str, n: int, latency_jobs: int, timeout: float, pgids: list[int] = ()) -> dict:
    """One run against freshly started workers: a warm-up (which also waits for them to be up),
    the throughput of `n` jobs enqueued while draining, then (with `pgids`) `n` jobs pre-enqueued
    and drained, then `latency_jobs` jobs one at a time once they are idle again."""
    throughput(system=system, n=WARMUP_JOBS, timeout=120)
    time.sleep(0.5)
    result = {"throughput": throughput(system=system, n=n, timeout=timeout)}
    if pgids:
        time.sleep(0.5)
        result["drain"] = drain(system=system, n=n, timeout=timeout, pgids=list(pgids))
    if latency_jobs:
        time.sleep(1.0)
        result["latency"] = latency(system=system, n=latency_jobs, timeout=30)
    return result
