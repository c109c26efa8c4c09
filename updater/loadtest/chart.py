"""The PNG of a simulation: latency percentiles, latency over time, and work done over time, one
colour per phase."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from updater.loadtest.phase import PhaseResult  # noqa: E402

COLOURS = {"queued": "tab:blue", "sync": "tab:red"}
PERCENTILES = (50, 95, 99)


def chart_write(*, results: list[PhaseResult], path: Path, title: str) -> None:
    figure, (bars, latency, work) = plt.subplots(1, 3, figsize=(16, 4.8))
    figure.suptitle(title)
    width = 0.8 / max(1, len(results))
    for i, result in enumerate(results):
        colour, label = COLOURS.get(result.endpoint.name, None), _label(result)
        values = [1000 * (result.latency(p) or 0) for p in PERCENTILES]
        positions = [p + i * width for p in range(len(PERCENTILES))]
        bars.bar(positions, values, width, color=colour, label=label)
        ok = [s for s in result.samples if not s.error]
        failed = [s for s in result.samples if s.error]
        latency.scatter([s.started for s in ok], [1000 * s.latency for s in ok], s=4, color=colour, label=label)
        if failed:
            latency.scatter([s.started for s in failed], [1000 * s.latency for s in failed], s=14, marker="x",
                            color="black", label=f"{result.endpoint.name}: errors and time-outs")
        times, units = _work_timeline(result)
        work.step(times, units, where="post", color=colour,
                  label=f"{result.endpoint.name}: {result.endpoint.unit} done")
        if result.endpoint.creates_jobs:
            times, units = _answered_timeline(result)
            work.step(times, units, where="post", color=colour, linestyle=":",
                      label=f"{result.endpoint.name}: {result.endpoint.unit} accepted by the API")
    bars.set_xticks([p + width * (len(results) - 1) / 2 for p in range(len(PERCENTILES))],
                    [f"p{p}" for p in PERCENTILES])
    bars.set(title="API latency", ylabel="ms")
    latency.set(title="Latency of each request", xlabel="seconds into the phase", ylabel="ms")
    work.set(title="Work done", xlabel="seconds into the phase", ylabel=results[0].endpoint.unit if results else "")
    for axes in (bars, latency, work):
        axes.legend(fontsize="small")
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _label(result: PhaseResult) -> str:
    return f"{result.endpoint.name} (POST {result.endpoint.path})"


def _work_timeline(result: PhaseResult) -> tuple[list[float], list[int]]:
    """Queued: units the workers finished (polled). Synchronous: units whose request was answered."""
    if not result.endpoint.creates_jobs:
        return _answered_timeline(result)
    points = [(0.0, 0), *result.done_timeline]
    return [t for t, _ in points], [u for _, u in points]


def _answered_timeline(result: PhaseResult) -> tuple[list[float], list[int]]:
    ends = sorted(s.started + s.latency for s in result.samples if not s.error)
    return [0.0, *ends], [n * result.endpoint.units_per_request for n in range(len(ends) + 1)]
