"""How durations read for people, the same in the pages and in the terminal."""

from __future__ import annotations

from datetime import timedelta


def duration(value: float | timedelta | None) -> str:
    """A short human duration: 850ms, 4.2s, 3m05s, 2h10m, 3d4h ("" for None)."""
    if value is None:
        return ""
    total = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if total < 1:
        return f"{total * 1000:.0f}ms"
    if total < 60:
        return f"{total:.1f}s"
    minutes, secs = divmod(int(total), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if days else f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
