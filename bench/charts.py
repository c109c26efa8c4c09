"""One PNG per section into docs/bench/ (matplotlib, Agg: files only)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

COLOURS = {"product": "tab:blue", "djq": "tab:orange", "djq-keep": "tab:red", "celery": "tab:green", "procrastinate": "tab:purple"}


def _save(figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path.name


def _grouped(axes, groups: list[str], series: dict[str, dict[str, float]], colours: dict | None = None) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [g + i * width for g in range(len(groups))]
        ys = [values.get(group, float("nan")) for group in groups]  # a system absent from a setup: no bar
        bars = axes.bar(xs, ys, width, label=name, color=(colours or {}).get(name))
        axes.bar_label(bars, labels=["" if y != y else f"{y:.0f}" for y in ys], fontsize=7)
    axes.set_xticks([g + width * (len(series) - 1) / 2 for g in range(len(groups))], groups, fontsize=8)
    axes.legend(fontsize=8)
    axes.grid(axis="y", alpha=0.3)


def throughput(rows: list[dict], path: Path) -> str:
    figure, axes = plt.subplots(figsize=(9, 4.5))
    from bench.procs import SHORT_LABELS

    def group(r):
        return f"{r['setup_label']}\n{r.get('mode_label', '')}"

    groups = list(dict.fromkeys(group(r) for r in rows))
    series: dict[str, dict[str, float]] = {}
    for r in rows:
        series.setdefault(SHORT_LABELS.get(r["system"], r["system"]), {})[group(r)] = r["jobs_per_s"]
    colours = {SHORT_LABELS.get(r["system"], r["system"]): COLOURS.get(r["system"]) for r in rows}
    _grouped(axes, groups, series, colours)
    axes.legend(fontsize=8, loc="upper left")
    axes.set(title="Throughput: no-op jobs, 2 worker processes, end to end", ylabel="jobs/s")
    return _save(figure, path)


def latency(rows: list[dict], path: Path) -> str:
    figure, axes = plt.subplots(figsize=(10, 4.5))
    from bench.procs import SHORT_LABELS

    groups = [f"{r['setup_label']}\n{SHORT_LABELS.get(r['system'], r['system'])}" for r in rows]
    series = {p: {g: r[f"{p}_ms"] for g, r in zip(groups, rows)} for p in ("p50", "p95", "p99")}
    _grouped(axes, groups, series)
    axes.set(title="Pickup latency into idle workers (enqueue to start)", ylabel="ms")
    axes.tick_params(axis="x", labelsize=6)
    return _save(figure, path)


def api(rows: list[dict], path: Path) -> str:
    figure, (rps, p99) = plt.subplots(1, 2, figsize=(12, 4.5))
    groups = list(dict.fromkeys(r["endpoint"] for r in rows))
    short = {g: g.split(" (")[0].replace("POST ", "") for g in groups}
    for axes, key, title, unit in ((rps, "requests_per_s", "Requests/s", "req/s"), (p99, "p99_ms", "p99 latency", "ms")):
        series: dict[str, dict[str, float]] = {}
        for r in rows:
            series.setdefault(f"{r['connections']} connections", {})[short[r["endpoint"]]] = r[key]
        _grouped(axes, list(short.values()), series)
        axes.set(title=title, ylabel=unit)
        axes.tick_params(axis="x", labelsize=7)
    return _save(figure, path)


def dbcost(rows: list[dict], path: Path) -> str:
    figure, axes = plt.subplots(figsize=(10, 4.5))
    from bench.procs import SHORT_LABELS

    labels = [f"{r['setup_label']}\n{SHORT_LABELS.get(r['system'], r['system'])}"
              + (f"\nbatch {r['batch']}" if r.get("batch") else "") for r in rows]
    parts = [("job_writes", "job layer writes"), ("job_reads", "job layer reads"), ("broker", "broker (reserve lock / ORM rows)"),
             ("results", "django-q2 results"), ("tx", "BEGIN/COMMIT/SAVEPOINT"), ("other", "other")]
    bottom = [0.0] * len(rows)
    for key, name in parts:
        values = [r[key] for r in rows]
        axes.bar(range(len(rows)), values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values)]
    axes.axhline(5, color="red", linestyle=":", label="target: 5 statements per job (PostgreSQL)")
    axes.set_xticks(range(len(rows)), labels, fontsize=6)
    axes.set(title="Database statements per no-op job over its life", ylabel="statements per job")
    axes.legend(fontsize=7)
    return _save(figure, path)


def updater(result: dict, path: Path) -> str:
    figure, axes = plt.subplots(figsize=(8, 4.5))
    rates = result["rows_per_second"]
    names = {"import": "our import job", "copy": "COPY + INSERT ON CONFLICT", "per_row": "update_or_create loop"}
    bars = axes.bar([names[k] for k in names], [rates[k] for k in names], color=["tab:blue", "tab:gray", "tab:red"])
    axes.bar_label(bars, fmt="%.0f")
    axes.set_yscale("log")
    axes.set(title=f"Updater: {result['rows']:,}-row feed into PostgreSQL (peak RSS {result['peak_rss_mb']} MB)",
             ylabel="rows/s (log scale)")
    return _save(figure, path)


def scale(result: dict, path: Path) -> str:
    figure, (lines, reads) = plt.subplots(1, 2, figsize=(12, 4.5))
    for setup in dict.fromkeys(r["setup_label"] for r in result["workers"]):
        points = [(r["workers"], r["jobs_per_s"]) for r in result["workers"] if r["setup_label"] == setup]
        lines.plot(*zip(*points), marker="o", label=setup)
    lines.set(title="Product throughput by worker processes", xlabel="worker processes", ylabel="jobs/s")
    lines.legend(fontsize=8)
    lines.grid(alpha=0.3)
    big = result["big_table"]
    names = list(big["before"]["reads_ms"])
    series = {f"{state['jobs_in_table']:,} jobs": state["reads_ms"] for state in big.get("states", [big["before"], big["after"]])}
    _grouped(reads, [n.split(" (")[0] for n in names], {k: {n.split(" (")[0]: v[n] for n in names} for k, v in series.items()})
    reads.set(title="Operator reads as finished jobs pile up", ylabel="ms (median)")
    reads.tick_params(axis="x", labelsize=6, rotation=20)
    return _save(figure, path)
