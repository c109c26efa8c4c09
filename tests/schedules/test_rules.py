"""When a rule fires: cron in a time zone (across DST), intervals on their grid, once."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from jobs.schedule_rules import cron_problem, next_tick, previous_ticks, timezone_problem

PARIS = ZoneInfo("Europe/Paris")


def test_cron_runs_in_its_time_zone():
    after = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert next_tick(kind="cron", after=after, cron="0 3 * * *", tz="Europe/Paris") == datetime(
        2026, 1, 11, 2, 0, tzinfo=UTC)  # fmt: skip


def test_cron_on_the_spring_forward_day_fires_at_the_first_time_after_the_gap():
    after = datetime(2026, 3, 29, 0, 30, tzinfo=PARIS)  # 02:30 does not exist that night in Paris
    tick = next_tick(kind="cron", after=after, cron="30 2 * * *", tz="Europe/Paris")
    assert tick == datetime(2026, 3, 29, 3, 0, tzinfo=PARIS).astimezone(UTC)
    following = next_tick(kind="cron", after=tick, cron="30 2 * * *", tz="Europe/Paris")
    assert following == datetime(2026, 3, 30, 2, 30, tzinfo=PARIS).astimezone(UTC)  # back to 02:30 local


def test_cron_hourly_counts_real_hours_across_fall_back():
    after = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST; at 03:00 CEST clocks go back to 02:00 CET
    ticks, at = [], after
    for _ in range(3):
        at = next_tick(kind="cron", after=at, cron="0 * * * *", tz="Europe/Paris")
        ticks.append(at)
    assert [t - after for t in ticks] == [timedelta(minutes=30), timedelta(minutes=90), timedelta(minutes=150)]


def test_cron_with_seconds_last():
    after = datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert next_tick(kind="cron", after=after, cron="* * * * * */5") == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)


def test_interval_ticks_on_the_grid_of_its_anchor():
    anchor = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    after = anchor + timedelta(seconds=95)
    assert next_tick(kind="interval", after=after, interval_seconds=60, anchored_at=anchor) == anchor + timedelta(
        seconds=120)  # fmt: skip
    assert next_tick(kind="interval", after=anchor + timedelta(seconds=120), interval_seconds=60,
                     anchored_at=anchor) == anchor + timedelta(seconds=180)  # fmt: skip


def test_once_fires_at_its_time_and_then_never():
    at = datetime(2030, 1, 1, tzinfo=UTC)
    assert next_tick(kind="once", after=at - timedelta(days=1), run_at=at) == at
    assert next_tick(kind="once", after=at, run_at=at) is None


def test_previous_ticks_are_the_latest_missed_oldest_first():
    now = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
    ticks = previous_ticks(kind="cron", before=now, after=now - timedelta(hours=1), count=2, cron="*/10 * * * *")
    assert ticks == [datetime(2026, 1, 1, 11, 50, tzinfo=UTC), datetime(2026, 1, 1, 12, 0, tzinfo=UTC)]
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    assert previous_ticks(kind="interval", before=now, after=now - timedelta(minutes=25), count=5,
                          interval_seconds=600, anchored_at=anchor) == [
        datetime(2026, 1, 1, 11, 40, tzinfo=UTC), datetime(2026, 1, 1, 11, 50, tzinfo=UTC),
        datetime(2026, 1, 1, 12, 0, tzinfo=UTC)]  # fmt: skip


def test_problems_are_named():
    assert cron_problem("* * *").startswith("Give 5 fields")
    assert "Not a valid" in cron_problem("61 * * * *")
    assert cron_problem("*/5 * * * * 30") is None
    assert "Unknown time zone" in timezone_problem("Europe/Atlantis")
    assert timezone_problem("America/New_York") is None
