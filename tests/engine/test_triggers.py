"""Triggers end to end: schedules (with catch-up and two schedulers at once), backfills, flow triggers."""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys
import time

import pytest
from sqlmodel import Session, select

from engine.core.states import State
from engine.store.database import session_scope
from engine.store.tables import Execution, TriggerFire, TriggerState, utcnow

pytestmark = pytest.mark.slow


def executions_of(cluster, flow_id: str) -> list[Execution]:
    with Session(cluster.db) as session:
        return sorted(session.exec(select(Execution).where(Execution.flow_id == flow_id)), key=lambda e: e.created_at)


def wait_count(cluster, flow_id: str, count: int, timeout: float = 30) -> list[Execution]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = executions_of(cluster, flow_id)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{flow_id}: {len(executions_of(cluster, flow_id))} executions, wanted {count}")


def lanner(cluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], env=cluster.env, capture_output=True, text=True, timeout=60
    )


def test_schedule_fires_with_trigger_date_and_disable_stops_it(cluster):
    cluster.deploy(
        "id: ticker\nnamespace: sched\ninputs:\n  - {id: at, type: STRING}\ntasks:\n"
        "  - {id: r, type: return, value: '{{ inputs.at }}'}\n"
        "triggers:\n  - {id: every_second, type: schedule, cron: '* * * * * *', inputs: {at: '{{ trigger.date }}'}}\n"
    )
    cluster.start("scheduler", "scheduler")
    fired = wait_count(cluster, "ticker", 2)
    assert fired[0].trigger["type"] == "schedule" and fired[0].inputs["at"] == fired[0].trigger["date"]
    assert dt.datetime.fromisoformat(fired[1].trigger["date"]) - dt.datetime.fromisoformat(
        fired[0].trigger["date"]
    ) == dt.timedelta(seconds=1)
    assert cluster.wait(fired[0].id).state == "SUCCESS"
    listed = lanner(cluster, "trigger", "list", "--namespace", "sched").stdout
    assert "every_second" in listed and "enabled" in listed
    assert lanner(cluster, "trigger", "disable", "sched/ticker", "every_second").returncode == 0
    time.sleep(1.5)
    count = len(executions_of(cluster, "ticker"))
    time.sleep(2)
    assert len(executions_of(cluster, "ticker")) == count
    assert "disabled" in lanner(cluster, "trigger", "list", "--namespace", "sched").stdout


def test_a_disabled_trigger_and_a_disabled_flow_never_fire(cluster):
    cluster.deploy(
        "id: off\nnamespace: sched\ntasks:\n  - {id: r, type: return, value: 1}\n"
        "triggers:\n  - {id: t, type: schedule, cron: '* * * * * *', disabled: true}\n"
    )
    cluster.deploy(
        "id: offflow\nnamespace: sched\ndisabled: true\ntasks:\n  - {id: r, type: return, value: 1}\n"
        "triggers:\n  - {id: t, type: schedule, cron: '* * * * * *'}\n"
    )
    cluster.start("scheduler", "scheduler")
    time.sleep(3)
    assert executions_of(cluster, "off") == [] and executions_of(cluster, "offflow") == []


def test_two_schedulers_fire_each_slot_exactly_once(cluster):
    cluster.deploy(
        "id: twice\nnamespace: sched\ntasks:\n  - {id: r, type: return, value: 1}\n"
        "triggers:\n  - {id: t, type: schedule, cron: '* * * * * *', allowConcurrent: true}\n"
    )
    cluster.start("scheduler-a", "scheduler")
    cluster.start("scheduler-b", "scheduler")
    wait_count(cluster, "twice", 5, timeout=60)
    cluster.kill("scheduler-a")
    cluster.kill("scheduler-b")
    dates = [dt.datetime.fromisoformat(e.trigger["date"]) for e in executions_of(cluster, "twice")]
    assert len(dates) >= 3 and len(dates) == len(set(dates))
    ordered = sorted(dates)
    assert all(b - a == dt.timedelta(seconds=1) for a, b in itertools.pairwise(ordered))


def test_catch_up_after_downtime_runs_every_missed_slot_in_order(cluster):
    cluster.deploy(
        "id: catchup\nnamespace: sched\ntasks:\n  - {id: r, type: return, value: '{{ trigger.date }}'}\n"
        "triggers:\n  - {id: t, type: schedule, cron: '* * * * *', recoverMissedSchedules: all}\n"
    )
    now = utcnow()
    down_since = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=5, seconds=10)
    with session_scope(cluster.db) as session:  # the scheduler last ran five and a bit minutes ago
        session.add(
            TriggerState(
                namespace="sched", flow_id="catchup", trigger_id="t", data={"lastSlot": down_since.isoformat()}
            )
        )
    cluster.start("scheduler", "scheduler")
    fired = wait_count(cluster, "catchup", 5, timeout=60)
    dates = [dt.datetime.fromisoformat(e.trigger["date"]) for e in fired]
    expected = [down_since.replace(second=0) + dt.timedelta(minutes=i) for i in range(1, 6)]
    assert dates[:5] == expected
    for execution in fired[:5]:
        assert cluster.wait(execution.id).state == "SUCCESS"


def test_backfill_runs_each_slot_once_and_can_be_cancelled(cluster):
    cluster.deploy(
        "id: daily\nnamespace: sched\ninputs:\n  - {id: day, type: STRING, required: false}\ntasks:\n"
        "  - {id: r, type: return, value: '{{ trigger.date }}'}\n"
        "triggers:\n  - {id: morning, type: schedule, cron: '0 6 * * *', timezone: Europe/Paris}\n"
    )
    cluster.start("scheduler", "scheduler")
    done = lanner(
        cluster,
        "trigger",
        "backfill",
        "sched/daily",
        "morning",
        "--from",
        "2026-01-01T00:00:00",
        "--to",
        "2026-01-05T23:00:00",
        "--input",
        "day=x",
    )
    assert done.returncode == 0 and '"total": 5' in done.stdout
    fired = wait_count(cluster, "daily", 5)
    for execution in fired:
        cluster.wait(execution.id)
    assert [e.trigger["date"][:16] for e in fired] == [f"2026-01-0{d}T05:00" for d in range(1, 6)]
    assert all(e.trigger["backfill"] for e in fired) and fired[0].inputs["day"] == "x"
    overlapping = lanner(
        cluster,
        "trigger",
        "backfill",
        "sched/daily",
        "morning",
        "--from",
        "2026-01-04T00:00:00",
        "--to",
        "2026-01-07T23:00:00",
    )
    assert overlapping.returncode == 0, overlapping.stdout + overlapping.stderr
    again = wait_count(cluster, "daily", 7, timeout=90)  # two slots, one after the other ended, on a busy machine
    time.sleep(1.5)
    assert len(executions_of(cluster, "daily")) == 7  # 4 and 5 January already ran: not again
    with Session(cluster.db) as session:
        state = session.get(TriggerState, ("sched", "daily", "morning"))
        assert state.data["backfill"]["skipped"] == 2 and state.data["backfill"]["done"]
        assert len(session.exec(select(TriggerFire).where(TriggerFire.flow_id == "daily")).all()) == 7
    assert len({e.trigger["date"] for e in again}) == 7
    lanner(
        cluster,
        "trigger",
        "backfill",
        "sched/daily",
        "morning",
        "--from",
        "2025-01-01T00:00:00",
        "--to",
        "2025-12-31T23:00:00",
    )
    cancel = lanner(cluster, "trigger", "backfill", "sched/daily", "morning", "--cancel")
    assert cancel.returncode == 0 and '"cancelled": true' in cancel.stdout
    time.sleep(1.5)
    settled = len(executions_of(cluster, "daily"))
    time.sleep(1.5)
    assert len(executions_of(cluster, "daily")) == settled < 7 + 365


def test_flow_trigger_starts_a_flow_with_inputs_from_the_ended_execution(cluster):
    cluster.deploy(
        "id: downstream\nnamespace: sched.report\ninputs:\n  - {id: total, type: INT}\ntasks:\n"
        "  - {id: r, type: return, value: '{{ inputs.total * 2 }}'}\n"
        "triggers:\n  - id: after_upstream\n    type: flow\n    conditions: [{namespace: sched, flowId: upstream}]\n"
        "    states: [SUCCESS]\n    inputs: {total: '{{ trigger.outputs.total }}'}\n"
    )
    cluster.deploy(  # another team's flow watching it: out of its reach (LANNER_SUBFLOW_REACH=root), never fires
        "id: spy\nnamespace: outsider\ntasks:\n  - {id: r, type: return, value: '{{ trigger.outputs }}'}\n"
        "triggers:\n  - id: peek\n    type: flow\n    conditions: [{namespace: sched, flowId: upstream}]\n"
    )
    upstream = cluster.run(
        "id: upstream\nnamespace: sched\ntasks:\n  - {id: r, type: return, value: 21}\n"
        "outputs:\n  - {id: total, type: INT, value: '{{ outputs.r.value }}'}\n"
    )
    cluster.wait(upstream)
    (downstream,) = wait_count(cluster, "downstream", 1)
    assert downstream.trigger["executionId"] == upstream and downstream.inputs == {"total": 21}
    assert cluster.wait(downstream.id).state == "SUCCESS"
    assert cluster.runs(downstream.id)["r"].outputs == {"value": 42}
    failed = cluster.run(
        "id: upstream\nnamespace: sched\ntasks:\n  - {id: r, type: fail}\n"
        "outputs:\n  - {id: total, type: INT, value: '{{ outputs.r.value }}'}\n"
    )
    assert cluster.wait(failed).state == State.FAILED.value
    time.sleep(1)
    assert len(executions_of(cluster, "downstream")) == 1  # only SUCCESS starts it
    assert executions_of(cluster, "spy") == []
