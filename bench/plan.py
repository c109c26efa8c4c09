"""How much each section measures: the full benchmark, or QUICK=1 (under 3 minutes, for day-to-day
use: fewer jobs, one run per side, shorter load phases; its figures are rough)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    quick: bool
    throughput_jobs: int  # no-op jobs per throughput run
    throughput_runs: int  # runs per system (alternating)
    latency_jobs_per_run: int  # jobs sent one at a time after each throughput run
    dbcost_jobs: int
    api_seconds: int
    api_rounds: int
    api_connections: tuple[int, ...]
    scale_jobs: int
    scale_runs: int
    scale_workers: tuple[int, ...]
    fill_steps: tuple[int, ...]  # finished jobs in the table at each measurement after the empty one
    updater_args: tuple[str, ...]
    queue_jobs: int  # no-op jobs in each of the 3 weighted queues
    queue_first: int  # shares counted over the first this many started jobs

    @property
    def latency_jobs(self) -> int:
        return self.latency_jobs_per_run * self.throughput_runs


FULL = Plan(
    quick=False, throughput_jobs=1000, throughput_runs=2, latency_jobs_per_run=150, dbcost_jobs=48,
    api_seconds=10, api_rounds=2, api_connections=(10, 50), scale_jobs=1000, scale_runs=2,
    scale_workers=(1, 2, 4), fill_steps=(10_000, 100_000, 1_000_000), updater_args=(),
    queue_jobs=2000, queue_first=1000,
)  # fmt: skip
QUICK = Plan(
    quick=True, throughput_jobs=200, throughput_runs=1, latency_jobs_per_run=15, dbcost_jobs=10,
    api_seconds=3, api_rounds=1, api_connections=(10, 50), scale_jobs=200, scale_runs=1,
    scale_workers=(1, 2, 4), fill_steps=(10_000, 100_000), updater_args=("--rows", "50000", "--runs", "1", "--per-row-rows", "1000"),
    queue_jobs=300, queue_first=200,
)  # fmt: skip
