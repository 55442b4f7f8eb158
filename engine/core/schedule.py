"""Schedule decisions as pure functions of a clock: fire times, what is due, what to catch up.

Slots are computed on the local wall clock of the trigger's time zone, then turned into instants:
a local time that does not exist (the spring-forward gap) fires at the same wall-clock distance
after the gap (02:30 becomes 03:30); a local time that happens twice (fall back) fires once, at
its first occurrence. Two slots that land on the same instant fire once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator

from engine.flows.triggers import RecoverMissed, ScheduleTrigger, cron_iter

UTC = dt.UTC


def _instant(local: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def fire_times(
    cron: str, timezone: str, after: dt.datetime, *, until: dt.datetime | None = None, limit: int = 10_000
) -> Iterator[dt.datetime]:
    """Fire instants (UTC) strictly after ``after``, up to ``until`` (inclusive) or ``limit`` of them."""
    zone = zoneinfo.ZoneInfo(timezone)
    # Slots of the second pass through a repeated (fall-back) hour map to instants of the first pass,
    # before ``after``, and are skipped below: a repeated local time fires once.
    start = after.astimezone(zone).replace(tzinfo=None)
    local = cron_iter(cron, start)
    last: dt.datetime | None = None
    produced = 0
    while produced < limit:
        instant = _instant(local.get_next(dt.datetime), zone)
        if instant <= after or instant == last:
            continue
        if until is not None and instant > until:
            return
        last = instant
        produced += 1
        yield instant


def next_fire(trigger: ScheduleTrigger, after: dt.datetime) -> dt.datetime:
    return next(fire_times(trigger.cron, trigger.timezone, after, limit=1))


def due_slots(
    trigger: ScheduleTrigger, last_slot: dt.datetime, now: dt.datetime, *, grace: dt.timedelta = dt.timedelta(minutes=1)
) -> list[dt.datetime]:
    """Slots to start now: those since ``last_slot``; missed ones (older than ``grace``) per the policy."""
    slots = list(fire_times(trigger.cron, trigger.timezone, last_slot, until=now))
    if not slots:
        return []
    recent = [slot for slot in slots if now - slot <= grace]
    missed = [slot for slot in slots if now - slot > grace]
    policy = trigger.recover_missed_schedules
    if policy == RecoverMissed.ALL:
        return slots
    if policy == RecoverMissed.LAST:
        return recent or missed[-1:]
    return recent


def backfill_slots(trigger: ScheduleTrigger, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every slot in [start, end]."""
    return list(fire_times(trigger.cron, trigger.timezone, start - dt.timedelta(microseconds=1), until=end))


def minute_utc(instant: dt.datetime | None) -> str:
    """``2026-01-01 06:00 UTC`` (a naive instant is UTC); empty for None."""
    if instant is None:
        return ""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
