"""One phase of the load demonstration: `clients` threads share `requests` requests to one endpoint,
each on its own keep-alive connection, recording every request's latency and outcome. For an
endpoint that queues jobs, `drain` then follows those jobs in the database until the workers have
finished them, recording how many units (rows or jobs) were done over time."""

from __future__ import annotations

import http.client
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from updater.loadtest.client import Api, Endpoint, job_id_of
from jobs.models import Job
from jobs.stats import job_status_counts

TICK_SECONDS = 1.0  # live line and job counts while the clients send
DRAIN_POLL_SECONDS = 0.5  # job counts while the workers finish: the finish time is known to this


@dataclass(frozen=True)
class Sample:
    started: float  # seconds since the phase began
    latency: float  # seconds until the answer was read (the time-out, for a time-out)
    error: str  # "" when answered 2xx; else "timeout", "HTTP 500", "connection (ConnectionResetError)"
    job_id: int | None


@dataclass
class PhaseResult:
    endpoint: Endpoint
    requests: int
    started: float = 0.0  # time.perf_counter() when the first client started
    samples: list[Sample] = field(default_factory=list)
    sent_seconds: float = 0.0  # until the last answer
    job_counts: dict[str, int] = field(default_factory=dict)
    drained_seconds: float | None = None  # when the last job finished; None: not (yet) drained
    done_timeline: list[tuple[float, int]] = field(default_factory=list)  # (seconds, units done)

    @property
    def ok(self) -> int:
        return sum(1 for s in self.samples if not s.error)

    @property
    def errors(self) -> Counter:
        return Counter(s.error for s in self.samples if s.error)

    @property
    def job_ids(self) -> list[int]:
        return [s.job_id for s in self.samples if s.job_id is not None]

    def latency(self, percent: float) -> float | None:
        """Nearest-rank percentile over every request, time-outs included at the time-out."""
        ordered = sorted(s.latency for s in self.samples)
        return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)] if ordered else None

    @property
    def units_done(self) -> int:
        if self.endpoint.creates_jobs:
            return self.job_counts.get(Job.Status.SUCCEEDED, 0) * self.endpoint.units_per_request
        return self.ok * self.endpoint.units_per_request

    @property
    def finished_seconds(self) -> float:
        """When the work was done: the last job finished, or (synchronous) the last answer came."""
        if not self.endpoint.creates_jobs:
            return self.sent_seconds
        return self.drained_seconds or (self.done_timeline[-1][0] if self.done_timeline else self.sent_seconds)

    @property
    def units_per_second(self) -> float:
        return self.units_done / self.finished_seconds if self.finished_seconds else 0.0


def run_phase(*, api: Api, endpoint: Endpoint, clients: int, requests: int,
              on_tick: Callable[[PhaseResult, float], None] = lambda result, elapsed: None) -> PhaseResult:
    """Send `requests` requests from `clients` threads; `on_tick` sees the result so far each second."""
    result = PhaseResult(endpoint=endpoint, requests=requests)
    numbers = iter(range(requests))
    lock = threading.Lock()

    def next_number() -> int | None:
        with lock:
            return next(numbers, None)

    start = result.started = time.perf_counter()
    alive = [
        threading.Thread(target=_client, args=(api, endpoint, next_number, result.samples, start), daemon=True)
        for _ in range(min(clients, requests))
    ]
    for thread in alive:
        thread.start()
    next_tick = start + TICK_SECONDS
    while alive:
        alive[0].join(max(0.0, next_tick - time.perf_counter()))
        alive = [thread for thread in alive if thread.is_alive()]
        if time.perf_counter() >= next_tick or not alive:
            _tick(result, on_tick)
            next_tick = time.perf_counter() + TICK_SECONDS
    result.sent_seconds = max((s.started + s.latency for s in result.samples), default=0.0)
    return result


def _tick(result: PhaseResult, on_tick) -> None:
    elapsed = time.perf_counter() - result.started
    if result.endpoint.creates_jobs:
        _count_jobs(result, elapsed)
    on_tick(result, elapsed)


def _client(api: Api, endpoint: Endpoint, next_number, samples: list[Sample], start: float) -> None:
    conn = api.connect()
    try:
        while (number := next_number()) is not None:
            body, content_type = endpoint.build(number)
            began = time.perf_counter()
            job_id, error = None, ""
            try:
                answer = api.send(conn, "POST", endpoint.path, body, content_type)
                if 200 <= answer.status < 300:
                    job_id = job_id_of(answer) if endpoint.creates_jobs else None
                else:
                    error = f"HTTP {answer.status}"
            except TimeoutError:
                error = "timeout"
                conn.close()  # the late answer must not be read as the next request's
            except (OSError, http.client.HTTPException) as exc:
                error = f"connection ({exc.__class__.__name__})"
                conn.close()
            samples.append(Sample(began - start, time.perf_counter() - began, error, job_id))  # append is atomic
    finally:
        conn.close()


def drain(result: PhaseResult, *, timeout: float, stall: float,
          on_tick: Callable[[PhaseResult, float], None] = lambda result, elapsed: None) -> None:
    """Follow the phase's jobs until all are finished, `timeout` seconds have passed, or nothing moved
    for `stall` seconds (no worker running)."""
    deadline = time.perf_counter() + timeout
    last_change, last_counts = time.perf_counter(), None
    while True:
        elapsed = time.perf_counter() - result.started
        counts = _count_jobs(result, elapsed)
        on_tick(result, elapsed)
        if counts[Job.Status.QUEUED] + counts[Job.Status.RUNNING] == 0:
            result.drained_seconds = elapsed
            return
        if counts != last_counts:
            last_change, last_counts = time.perf_counter(), counts
        now = time.perf_counter()
        if now >= deadline or now - last_change >= stall:
            return
        time.sleep(min(DRAIN_POLL_SECONDS, max(0.0, deadline - now)))


def _count_jobs(result: PhaseResult, elapsed: float) -> dict[str, int]:
    counts = job_status_counts(ids=result.job_ids)
    result.job_counts = counts
    done = counts[Job.Status.SUCCEEDED] * result.endpoint.units_per_request
    if not result.done_timeline or result.done_timeline[-1][1] != done:
        result.done_timeline.append((elapsed, done))
    return counts

