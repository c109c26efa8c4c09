"""The targets (issue 9's performance section, and issue 5's that still stand), checked against one
run's results: PASS or MISS, and by how much. Peers without a target are shown for reference."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    key: str
    target: str
    measured: float | None
    bound: float | None  # None: shown for reference, no target
    at_least: bool  # True: measured >= bound passes; False: measured <= bound (or < for memory)
    unit: str = "x"
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.measured is None or self.bound is None:
            return None
        return self.measured >= self.bound if self.at_least else self.measured <= self.bound

    @property
    def verdict(self) -> str:
        if self.bound is None:
            return "reference"
        return {True: "PASS", False: "MISS", None: "n/a"}[self.passed]

    @property
    def shortfall(self) -> str:
        """How far from the target, in words, for a miss."""
        if self.passed is not False:
            return ""
        if self.at_least:
            return f"{100 * (1 - self.measured / self.bound):.0f}% short of {self.bound:g}{self.unit}"
        return f"{100 * (self.measured / self.bound - 1):.0f}% over {self.bound:g}{self.unit if self.unit == 'x' else ' ' + self.unit}"

    def shown(self) -> str:
        if self.measured is None:
            return "not measured" + (f" ({self.note})" if self.note else "")
        if self.unit == "x":
            return f"{self.measured:.2f}{self.unit}"
        return f"{self.measured:.3g} {self.unit}" if isinstance(self.measured, float) else f"{self.measured} {self.unit}"


def _throughput_ratio(results: dict, setup: str, system: str, mode: str) -> float | None:
    for row in results.get("systems", {}).get("throughput", []):
        if row["setup"] == setup and row["system"] == system and row["mode"] == mode:
            return row.get("product_ratio")
    return None


def _pickup(results: dict, setup: str, system: str = "product") -> float | None:
    for row in results.get("systems", {}).get("latency", []):
        if row["setup"] == setup and row["system"] == system:
            return row["p50_ms"]
    return None


def _api(results: dict, connections: int) -> dict:
    for row in results.get("api", {}).get("rows", []):
        if row["endpoint"] == "POST /api/v1/jobs/" and row["connections"] == connections:
            return row
    return {}


def _statements(results: dict, setup: str, batch: int) -> float | None:
    for row in results.get("dbcost", {}).get("rows", []):
        if row["setup"] == setup and row["system"] == "product" and row["batch"] == batch:
            return row["total"]
    return None


def _flat(results: dict, read: str) -> float | None:
    big = results.get("scale", {}).get("big_table")
    if not big:
        return None
    states = big.get("states", [big["before"], big["after"]])
    return states[-1]["reads_ms"][read] / states[0]["reads_ms"][read]


def _share_gap(results: dict) -> float | None:
    queues = results.get("queues", {})
    if "weighted" not in queues:
        return None
    shares = queues["weighted"]["shares"]
    return 100 * max(abs(shares.get(q, 0) - w) for q, w in queues["weights"].items())


def _strict_first(results: dict) -> float | None:
    queues = results.get("queues", {})
    return 100 * queues["strict"]["shares"].get("critical", 0) if "strict" in queues else None


MODES = (("throughput", "enqueued while draining"), ("drain", "pre-enqueued"))
FLAT = 1.5  # "stays flat": at 1M finished jobs at most 1.5x the empty table's time (timing noise allowed)


def checks(results: dict) -> list[Check]:
    api10, api50 = _api(results, 10), _api(results, 50)
    updater = results.get("updater", {})
    rates, ratios = updater.get("rows_per_second", {}), updater.get("ratios", {})
    missing = updater.get("skipped", "")
    found = [
        Check("pickup_pg", "Pickup p50, PostgreSQL (LISTEN/NOTIFY) <= 5 ms", _pickup(results, "pg"), 5, False, unit="ms"),
        Check("pickup_sqlite", "Pickup p50, SQLite (poll) <= 60 ms", _pickup(results, "sqlite"), 60, False, unit="ms"),
        Check("pickup_procrastinate", "Pickup p50, procrastinate on the same PostgreSQL (peer)",
              _pickup(results, "pg", "procrastinate"), None, False, unit="ms"),
    ]
    for mode, label in MODES:
        found += [
            Check(f"vs_djq_keep_{mode}", f"Throughput ({label}) / bare django-q2, save_limit 0 >= 1.5x",
                  _throughput_ratio(results, "pg", "djq-keep", mode), 1.5, True),
            Check(f"vs_djq_{mode}", f"Throughput ({label}) / bare django-q2, save_limit 250 >= 1.5x",
                  _throughput_ratio(results, "pg", "djq", mode), 1.5, True),
            Check(f"vs_procrastinate_{mode}", f"Throughput ({label}) / procrastinate (peer)",
                  _throughput_ratio(results, "pg", "procrastinate", mode), None, True),
            Check(f"vs_celery_{mode}", f"Throughput ({label}) / Celery + Redis, no results (outside reference)",
                  _throughput_ratio(results, "pg", "celery", mode), None, True),
        ]
    found += [
        Check("statements_batch", "Statements per no-op job on PostgreSQL, BEGIN/COMMIT included, reserve batch 4 <= 5",
              _statements(results, "pg", 4), 5, False, unit="statements"),
        Check("statements_worst", "Statements per no-op job on PostgreSQL, BEGIN/COMMIT included, reserve batch 1 <= 5",
              _statements(results, "pg", 1), 5, False, unit="statements"),
        Check("api_vs_ceiling", "Enqueue API at 10 connections >= 0.8x the bare insert endpoint",
              api10.get("vs_ceiling"), 0.8, True),
        Check("api_vs_ceiling_50", "Enqueue API at 50 connections >= 0.8x the bare insert endpoint",
              api50.get("vs_ceiling"), 0.8, True),
        Check("api_errors", "Enqueue API errors at 10 and 50 connections = 0",
              (api10.get("errors", 0) + api50.get("errors", 0)) if api10 else None, 0, False, unit="errors"),
        Check("flat_dashboard", f"GET /jobs/ (dashboard) at 1M finished jobs / empty table <= {FLAT}x (flat)",
              _flat(results, "GET /jobs/ (dashboard page)"), FLAT, False),
        Check("flat_queues", f"GET /api/v1/queues/ at 1M finished jobs / empty table <= {FLAT}x (flat)",
              _flat(results, "GET /api/v1/queues/"), FLAT, False),
        Check("weighted_shares", "Weighted queues 6:3:1, full backlog: largest gap to the weights (points)",
              _share_gap(results), None, False, unit="points"),
        Check("strict_first", "Strict queues, full backlog: share of the heaviest queue in the first jobs",
              _strict_first(results), None, True, unit="%"),
        Check("updater_vs_copy", "Updater import >= 0.5x COPY + INSERT ON CONFLICT",
              ratios.get("import_vs_copy"), 0.5, True, note=missing),
        Check("updater_vs_per_row", "Updater import >= 20x per-row update_or_create",
              ratios.get("import_vs_per_row"), 20, True, note=missing),
        Check("updater_rss", "Updater worker peak RSS < 200 MB",
              updater.get("peak_rss_mb") if rates else None, 200, False, unit="MB", note=missing),
    ]  # fmt: skip
    return found


def summary_table(found: list[Check]) -> str:
    lines = ["| target | measured | result |", "| --- | --- | --- |"]
    for check in found:
        result = check.verdict + (f" ({check.shortfall})" if check.shortfall else "")
        lines.append(f"| {check.target} | {check.shown()} | {result} |")
    return "\n".join(lines)
