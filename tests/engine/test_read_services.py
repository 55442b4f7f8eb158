"""The engine services the studio reads through: run history, the audit trail and triggers, each deciding access
once (a namespace the caller may not read counts as empty), and the process' one database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from engine.identity import authz
from engine.identity.policy import Principal, Role
from engine.services import audit_trail, connections, history, triggers
from engine.services import flows as flow_service
from engine.store.tables import Execution

ROOT = authz.LOCAL
VIEWER = Principal(name="vera", memberships={"acme": Role.VIEWER})
ACME_ADMIN = Principal(name="ada", memberships={"acme": Role.ADMIN})
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
PERIOD = history.Period(NOW - dt.timedelta(days=7), NOW, NOW)
FLOW = """\
id: {id}
namespace: {namespace}
tasks:
  - {{id: r, type: return, value: x}}
triggers:
  - {{id: daily, type: schedule, cron: '0 6 * * *'}}
"""


@pytest.fixture
def seeded(database):
    """A flow with a schedule and one failed execution in ``acme`` and in ``other``."""
    for namespace in ("acme", "other"):
        flow_service.save(database, ROOT, FLOW.format(id="etl", namespace=namespace))
    with Session(database) as session:
        for namespace in ("acme", "other"):
            created = NOW - dt.timedelta(hours=2)
            session.add(
                Execution(id=f"{namespace}-1", namespace=namespace, flow_id="etl", flow_revision=1, state="FAILED",
                          created_at=created, started_at=created, duration_ms=3000)
            )  # fmt: skip
        session.commit()
    return database


def test_history_counts_only_the_namespaces_the_caller_may_read(seeded):
    assert history.kpis(seeded, ROOT, PERIOD)["failures"] == 2
    assert history.kpis(seeded, VIEWER, PERIOD)["failures"] == 1
    assert history.kpis(seeded, VIEWER, PERIOD, namespace="other")["failures"] == 0  # unreadable: empty
    assert [p["id"] for p in history.duration_points(seeded, VIEWER, PERIOD)["points"]] == ["acme-1"]
    assert history.flow_ids(seeded, VIEWER) == ["etl"] and history.flow_ids(seeded, VIEWER, "other") == []
    numbers = history.dashboard(seeded, VIEWER, PERIOD, flow_id="etl")
    assert numbers.kpis == history.kpis(seeded, VIEWER, PERIOD, flow_id="etl")
    assert [p["id"] for p in numbers.durations["points"]] == ["acme-1"] and numbers.tasks == []
    assert history.dashboard(seeded, VIEWER, PERIOD).per_day == history.executions_per_day(seeded, VIEWER, PERIOD)


def test_the_audit_trail_is_for_administrators_of_its_namespace(seeded):
    deployed = audit_trail.events(seeded, ACME_ADMIN, "acme")
    assert [(e.action, e.namespace, e.target_id) for e in deployed] == [("deployed", "acme", "etl")]
    assert isinstance(deployed[0], audit_trail.AuditEventView) and deployed[0].actor == ROOT.name
    assert {e.namespace for e in audit_trail.events(seeded, ROOT)} == {"acme", "other"}
    with pytest.raises(authz.Forbidden, match="choose a namespace"):
        audit_trail.events(seeded, ACME_ADMIN)
    with pytest.raises(authz.Forbidden):
        audit_trail.events(seeded, VIEWER, "acme")
    with pytest.raises(authz.NotVisible):
        audit_trail.events(seeded, ACME_ADMIN, "other")
    assert audit_trail.sees_everything(ROOT) and not audit_trail.sees_everything(ACME_ADMIN)


def test_triggers_are_listed_switched_and_backfilled_by_those_allowed(seeded):
    listed = triggers.list_triggers(seeded, VIEWER)
    assert [(t.namespace, t.id, t.enabled_by_person, t.backfill) for t in listed] == [("acme", "daily", True, None)]
    with pytest.raises(authz.Forbidden):
        triggers.set_enabled(seeded, VIEWER, "acme", "etl", "daily", False, actor=VIEWER.name)
    triggers.set_enabled(seeded, ROOT, "acme", "etl", "daily", False, actor=ROOT.name)
    (switched,) = triggers.list_triggers(seeded, ROOT, "acme")
    assert not switched.enabled_by_person and not switched.disabled_in_yaml

    def backfill(who, trigger_id, first, last, inputs=None):
        return triggers.start_backfill(seeded, who, "acme", "etl", trigger_id, first, last, inputs, actor=who.name)

    first, last = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 3, 7, tzinfo=dt.UTC)
    with pytest.raises(authz.Forbidden):
        backfill(VIEWER, "daily", first, last)
    with pytest.raises(ValueError, match="ends before it starts"):
        backfill(ROOT, "daily", last, first)
    with pytest.raises(ValueError, match="unknown input 'nope'"):
        backfill(ROOT, "daily", first, last, {"nope": 1})
    with pytest.raises(ValueError, match="no slot of this schedule falls between"):
        backfill(ROOT, "daily", first + dt.timedelta(hours=7), first + dt.timedelta(hours=8))
    with pytest.raises(LookupError, match="no schedule trigger 'hourly'"):
        backfill(ROOT, "hourly", first, last)
    started = backfill(ROOT, "daily", first, last)
    assert (started["total"], started["paused"]) == (3, False)
    assert triggers.backfill_action(seeded, ROOT, "acme", "etl", "daily", "pause")["paused"] is True
    with pytest.raises(LookupError, match="no backfill action 'stop'"):
        triggers.backfill_action(seeded, ROOT, "acme", "etl", "daily", "stop")
    (listed,) = triggers.list_triggers(seeded, ROOT, "acme")
    assert listed.backfill is not None and listed.backfill["paused"] is True


def test_the_process_opens_its_database_once_and_needs_redis_only_to_act(tmp_path, monkeypatch):
    monkeypatch.setenv("LANNER_HOME", str(tmp_path))
    monkeypatch.setenv("LANNER_DATABASE_URL", f"sqlite:///{tmp_path / 'lanner.db'}")
    monkeypatch.delenv("LANNER_REDIS_URL", raising=False)
    connections.database.cache_clear()
    connections.connections.cache_clear()
    try:
        assert connections.database() is connections.database()
        with pytest.raises(RuntimeError, match="LANNER_REDIS_URL"):
            connections.connections()
    finally:
        connections.database().dispose()
        connections.database.cache_clear()
