"""Schedule decisions with a fake clock: DST in a named zone, catch-up policies, backfill ranges."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from engine.core.schedule import backfill_slots, due_slots, fire_times, next_fire
from engine.flows.triggers import ScheduleTrigger

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = dt.UTC


def trigger(cron: str, tz: str = "Europe/Paris", recover: str = "last") -> ScheduleTrigger:
    return ScheduleTrigger(id="t", type="schedule", cron=cron, timezone=tz, recover_missed_schedules=recover)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def paris(instants) -> list[str]:
    return [i.astimezone(PARIS).strftime("%m-%d %H:%M %Z") for i in instants]


def test_daily_slot_in_the_spring_gap_fires_after_the_gap():
    # 2026-03-29: Paris clocks jump from 02:00 to 03:00.
    slots = fire_times("30 2 * * *", "Europe/Paris", local(2026, 3, 27, 12), until=local(2026, 3, 30, 12))
    assert paris(slots) == ["03-28 02:30 CET", "03-29 03:30 CEST", "03-30 02:30 CEST"]


def test_hourly_around_spring_forward_fires_each_real_hour_once():
    slots = list(fire_times("0 * * * *", "Europe/Paris", local(2026, 3, 29, 0, 30), until=local(2026, 3, 29, 4, 30)))
    assert paris(slots) == ["03-29 01:00 CET", "03-29 03:00 CEST", "03-29 04:00 CEST"]
    assert len(set(slots)) == len(slots)


def test_fall_back_ambiguous_time_fires_once():
    # 2026-10-25: Paris clocks go back from 03:00 to 02:00; 02:30 happens twice.
    slots = list(fire_times("30 2 * * *", "Europe/Paris", local(2026, 10, 24, 12), until=local(2026, 10, 26, 12)))
    assert paris(slots) == ["10-25 02:30 CEST", "10-26 02:30 CET"]
    assert slots[1] - slots[0] == dt.timedelta(hours=25)


def test_seconds_field_and_aliases():
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert [s.second for s in fire_times("*/15 * * * * *", "UTC", start, limit=3)] == [15, 30, 45]
    assert next_fire(trigger("@daily", "UTC"), start) == dt.datetime(2026, 1, 2, tzinfo=UTC)
    assert next_fire(trigger("@hourly", "UTC"), start) == dt.datetime(2026, 1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("recover", "expected"), [("all", 5), ("last", 1), ("none", 0)])
def test_catch_up_after_downtime(recover: str, expected: int):
    every_hour = trigger("0 * * * *", "UTC", recover)
    last = dt.datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    now = dt.datetime(2026, 1, 1, 5, 30, tzinfo=UTC)  # down for five slots
    slots = due_slots(every_hour, last, now)
    assert len(slots) == expected
    if recover == "last":
        assert slots == [dt.datetime(2026, 1, 1, 5, tzinfo=UTC)]


def test_a_slot_due_now_always_fires_and_nothing_twice():
    every_minute = trigger("* * * * *", "UTC", "none")
    now = dt.datetime(2026, 1, 1, 10, 0, 20, tzinfo=UTC)
    slots = due_slots(every_minute, now - dt.timedelta(seconds=50), now)
    assert slots == [dt.datetime(2026, 1, 1, 10, 0, tzinfo=UTC)]
    assert due_slots(every_minute, slots[0], now) == []


def test_backfill_range_is_inclusive():
    slots = backfill_slots(
        trigger("0 6 * * *", "UTC"), dt.datetime(2026, 1, 1, 6, tzinfo=UTC), dt.datetime(2026, 1, 4, 6, tzinfo=UTC)
    )
    assert [s.day for s in slots] == [1, 2, 3, 4]
