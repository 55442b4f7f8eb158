"""The triggers page's service functions against a real (temporary) database, without a browser."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.identity import authz
from engine.services.flow_deploy import deploy_flow
from engine.store.database import session_scope
from engine.store.tables import TriggerFire
from studio.pages.triggers.state import backfill_progress, trigger_row
from studio.services import triggers

NOW = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
ADMIN = authz.LOCAL  # the local administrator: these tests are about triggers, access has its own tests

DAILY = """\
id: daily
namespace: trig.service
inputs:
  - {id: day, type: STRING, required: false}
  - {id: count, type: INT, required: false}
tasks:
  - {id: r, type: return, value: '{{ trigger.date }}'}
triggers:
  - {id: morning, type: schedule, cron: '0 6 * * *', timezone: Europe/Paris}
  - {id: off, type: schedule, cron: '@hourly', disabled: true}
"""

OTHERS = """\
id: others
namespace: trig.other
inputs:
  - {id: size, type: INT}
tasks:
  - {id: r, type: return, value: x}
triggers:
  - {id: hook, type: webhook, key: abcdefgh12345}
  - id: after
    type: flow
    conditions: [{namespace: trig.service, flowId: daily}, {namespace: trig.more}]
    states: [SUCCESS, FAILED]
    inputs: {size: 1}
  - {id: nightly, type: schedule, cron: '0 1 * * *', inputs: {size: 3}}
"""


@pytest.fixture
def deployed(db) -> None:
    """The flows DAILY and OTHERS, with their triggers, in the studio's database (``db``)."""
    with session_scope(db) as session:
        for text in (DAILY, OTHERS):
            deploy_flow(session, text, author="test")


def by_id(rows):
    return {f"{r.flow_id}.{r.trigger_id}": r for r in rows}


@pytest.mark.usefixtures("deployed")
def test_lists_every_trigger_with_a_description_and_the_next_fire(db):
    rows = by_id(triggers.list_triggers(ADMIN, now=NOW))
    assert set(rows) == {"daily.morning", "daily.off", "others.hook", "others.after", "others.nightly"}
    morning = rows["daily.morning"]
    assert (morning.namespace, morning.type, morning.description) == (
        "trig.service",
        "schedule",
        "cron 0 6 * * * (Europe/Paris)",
    )
    assert (morning.next_fire, morning.timezone) == (dt.datetime(2026, 1, 11, 5, 0, tzinfo=dt.UTC), "Europe/Paris")
    shown = trigger_row(morning)
    assert (shown["next_utc"], shown["next_local"]) == ("2026-01-11 05:00 UTC", "2026-01-11 06:00 Europe/Paris")
    assert morning.enabled and morning.inputs == ["day", "count"] and morning.backfill is None
    assert rows["others.hook"].description == "GET/POST/PUT /api/v1/webhooks/trig.other/others/abcdefgh12345"
    assert rows["others.hook"].next_fire is None and trigger_row(rows["others.hook"])["next_utc"] == "-"
    assert rows["others.after"].description == (
        "when trig.service/daily, any flow of trig.more ends in SUCCESS or FAILED"
    )
    assert [r.flow_id for r in triggers.list_triggers(ADMIN, "trig.other", now=NOW)] == ["others"] * 3


@pytest.mark.usefixtures("deployed")
def test_disabled_in_yaml_and_by_a_person_are_told_apart(db):
    off = by_id(triggers.list_triggers(ADMIN, now=NOW))["daily.off"]
    assert off.disabled_in_yaml and off.enabled_by_person and not off.enabled and off.next_fire is None
    triggers.set_enabled(ADMIN, "trig.service", "daily", "morning", False)
    morning = by_id(triggers.list_triggers(ADMIN, now=NOW))["daily.morning"]
    assert not morning.disabled_in_yaml and not morning.enabled_by_person and not morning.enabled
    assert morning.next_fire is None
    triggers.set_enabled(ADMIN, "trig.service", "daily", "morning", True)
    assert by_id(triggers.list_triggers(ADMIN, now=NOW))["daily.morning"].enabled
    with pytest.raises(LookupError, match="no trigger 'nope'"):
        triggers.set_enabled(ADMIN, "trig.service", "daily", "nope", False)


@pytest.mark.usefixtures("deployed")
def test_last_fire_comes_from_the_fired_slots(db):
    fired_at = dt.datetime(2026, 1, 9, 5, 0, 3, tzinfo=dt.UTC)
    with session_scope(db) as session:
        session.add(
            TriggerFire(
                namespace="trig.service",
                flow_id="daily",
                trigger_id="morning",
                key="2026-01-09T05:00:00+00:00",
                execution_id="e-1",
                backfill=True,
                created_at=fired_at,
            )
        )
    morning = by_id(triggers.list_triggers(ADMIN, now=NOW))["daily.morning"]
    assert (morning.last_fire_at.replace(tzinfo=dt.UTC), morning.last_execution_id) == (fired_at, "e-1")
    assert trigger_row(morning)["last_fire"] == "2026-01-09 05:00 UTC"


@pytest.mark.usefixtures("deployed")
def test_a_backfill_is_started_followed_paused_resumed_and_cancelled(db):
    started = triggers.start_backfill(
        ADMIN, "trig.service", "daily", "morning", "2026-01-01T00:00", "2026-01-03T23:00", {"day": "x", "count": ""}
    )
    assert (started.total, started.fired, started.status, backfill_progress(started)) == (3, 0, "running", "0/3")
    morning = by_id(triggers.list_triggers(ADMIN, now=NOW))["daily.morning"]
    assert morning.backfill == started and morning.backfill.running
    paused = triggers.backfill_action(ADMIN, "trig.service", "daily", "morning", "pause")
    assert paused.status == "paused" and not paused.running and not paused.over
    assert triggers.backfill_action(ADMIN, "trig.service", "daily", "morning", "resume").status == "running"
    cancelled = triggers.backfill_action(ADMIN, "trig.service", "daily", "morning", "cancel")
    assert cancelled.status == "cancelled" and cancelled.over
    with pytest.raises(ValueError, match="no backfill action 'stop'"):
        triggers.backfill_action(ADMIN, "trig.service", "daily", "morning", "stop")
    with pytest.raises(LookupError, match="no backfill"):
        triggers.backfill_action(ADMIN, "trig.other", "others", "nightly", "pause")


def test_progress_counts_skipped_slots():
    backfill = triggers.Backfill("a", "b", total=5, fired=2, skipped=2, paused=False, cancelled=False, done=False)
    assert backfill_progress(backfill) == "4/5 (2 skipped)"


@pytest.mark.parametrize(
    ("start", "end", "inputs", "message"),
    [
        ("2026-01-03T00:00", "2026-01-01T00:00", {}, "ends before it starts"),
        ("", "2026-01-01T00:00", {}, "give the start date and time"),
        ("yesterday", "2026-01-01T00:00", {}, "'yesterday' is not a date and time"),
        ("2026-01-01T07:00", "2026-01-01T08:00", {}, "no slot of this schedule falls between"),
        ("2026-01-01T00:00", "2026-01-02T00:00", {"colour": "red"}, "unknown input 'colour'"),
        ("2026-01-01T00:00", "2026-01-02T00:00", {"count": "many"}, "input 'count'"),
    ],
)
@pytest.mark.usefixtures("deployed")
def test_bad_backfills_say_what_is_wrong_and_start_nothing(db, start, end, inputs, message):
    with pytest.raises(ValueError, match=message):
        triggers.start_backfill(ADMIN, "trig.service", "daily", "morning", start, end, inputs)
    assert by_id(triggers.list_triggers(ADMIN, now=NOW))["daily.morning"].backfill is None


@pytest.mark.usefixtures("deployed")
def test_required_inputs_may_come_from_the_trigger(db):
    started = triggers.start_backfill(
        ADMIN, "trig.other", "others", "nightly", "2026-01-01T00:00", "2026-01-02T23:00", {}
    )
    assert started.total == 2
    with pytest.raises(LookupError, match="no schedule trigger 'hook'"):
        triggers.start_backfill(ADMIN, "trig.other", "others", "hook", "2026-01-01T00:00", "2026-01-02T00:00", {})


LISTENED = """\
id: listened
namespace: trig.events
tasks:
  - {id: r, type: return, value: '{{ trigger.body }}'}
triggers:
  - {id: orders, type: redis.realtime, url: 'redis://:s3cret@broker:6379/0', key: orders, maxRecords: 50}
  - {id: poll, type: http.trigger, uri: 'https://api.example.com/status', interval: 30s}
"""


def test_realtime_and_polling_triggers_say_what_they_listen_to_and_how_their_listener_does(
    db, redis_server, monkeypatch
):
    from engine.runtime.connection import connect
    from engine.runtime.trigger_health import Health

    monkeypatch.setenv("LANNER_REDIS_URL", redis_server)
    with session_scope(db) as session:
        deploy_flow(session, LISTENED, author="test")
    r = connect(redis_server)
    r.flushdb()
    health = Health(r, "trig.events/listened/orders")
    health.connected("Redis stream orders at redis://broker:6379/0", "host:1:abc")
    health.received(3)
    health.started("e1")
    health.duplicate(1)
    health.failed("Redis at redis://broker:6379/0 is unreachable (Connection refused)")
    rows = by_id(triggers.list_triggers(ADMIN, "trig.events", now=NOW))
    orders, poll = trigger_row(rows["listened.orders"]), trigger_row(rows["listened.poll"])
    assert orders["description"] == "batches (up to 50 messages) of Redis stream orders at redis://broker:6379/0"
    assert "s3cret" not in str(orders)
    assert orders["listener"].startswith("not connected; 3 received, 1 started, 1 duplicates")
    assert orders["listener_state"] == "down" and "unreachable (Connection refused)" in orders["listener_error"]
    assert poll["description"] == "every 30s: GET https://api.example.com/status"
    assert (poll["listener"], poll["listener_state"]) == ("no listener has run it yet", "waiting")
