"""The targets of issue 5, checked against one run's results: PASS or MISS, and by how much."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    key: str
    target: str
    measured: float | None
    bound: float
    at_least: bool  # True: measured >= bound passes; False: measured <= bound (or < for memory)
    unit: str = "x"
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured >= self.bound if self.at_least else self.measured <= self.bound

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "n/a"}[self.passed]

    @property
    def shortfall(self) -> str:
        """How far from the target, in words, for a miss."""
        if self.passed is not False:
            return ""
        if self.at_least:
            return f"{100 * (1 - self.measured / self.bound):.0f}% short of {self.bound:g}{self.unit}"
        return f"{100 * (self.measured / self.bound - 1):.0f}% over {self.bound:g}{self.unit}"

    def shown(self) -> str:
        if self.measured is None:
            return "not measured" + (f" ({self.note})" if self.note else "")
        return f"{self.measured:.2f}{self.unit}" if self.unit == "x" else f"{self.measured:g} {self.unit}"


def _throughput_ratio(results: dict, setup: str, system: str) -> float | None:
    for row in results.get("systems", {}).get("throughput", []):
        if row["setup"] == setup and row["system"] == system:
            return row.get("product_ratio")
    return None


def _api(results: dict, connections: int) -> dict:
    for row in results.get("api", {}).get("rows", []):
        if row["endpoint"] == "POST /api/v1/jobs/" and row["connections"] == connections:
            return row
    return {}


def checks(results: dict) -> list[Check]:
    api10 = _api(results, 10)
    dbrows = [r for r in results.get("dbcost", {}).get("rows", []) if r["system"] == "product"]
    updater = results.get("updater", {})
    rates, ratios = updater.get("rows_per_second", {}), updater.get("ratios", {})
    missing = updater.get("skipped", "")
    return [
        Check("pg_orm_vs_djq", "Throughput, PostgreSQL + ORM broker: product / bare django-q2 >= 1.0x",
              _throughput_ratio(results, "pg-orm", "djq"), 1.0, True),
        Check("pg_redis_vs_djq", "Throughput, PostgreSQL + Redis broker: product / bare django-q2 >= 1.0x",
              _throughput_ratio(results, "pg-redis", "djq"), 1.0, True),
        Check("redis_vs_celery", "Throughput, Redis broker: product / Celery (no result backend) >= 0.8x",
              _throughput_ratio(results, "pg-redis", "celery"), 0.8, True),
        Check("job_writes", "Job-layer write queries per no-op job <= 4, every broker",
              max((r["job_writes"] for r in dbrows), default=None), 4, False, unit="queries"),
        Check("api_vs_ceiling", "Enqueue API at 10 connections >= 0.8x the bare insert endpoint",
              api10.get("vs_ceiling"), 0.8, True),
        Check("api_errors", "Enqueue API errors at 10 connections = 0",
              api10.get("errors"), 0, False, unit="errors"),
        Check("updater_vs_copy", "Updater import >= 0.5x COPY + INSERT ON CONFLICT",
              ratios.get("import_vs_copy"), 0.5, True, note=missing),
        Check("updater_vs_per_row", "Updater import >= 20x per-row update_or_create",
              ratios.get("import_vs_per_row"), 20, True, note=missing),
        Check("updater_rss", "Updater worker peak RSS < 200 MB",
              updater.get("peak_rss_mb") if rates else None, 200, False, unit="MB", note=missing),
    ]  # fmt: skip


def summary_table(found: list[Check]) -> str:
    lines = ["| target | measured | result |", "| --- | --- | --- |"]
    for check in found:
        result = check.verdict + (f" ({check.shortfall})" if check.shortfall else "")
        lines.append(f"| {check.target} | {check.shown()} | {result} |")
    return "\n".join(lines)
