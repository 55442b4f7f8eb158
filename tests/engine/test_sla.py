"""Flow SLAs without I/O: the flow language (errors at their line and column) and the state machine's decisions
for every behaviour of maxDuration and assertion SLAs. The real runs are in test_sla_runs.py."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from engine.core.progress import next_wakeup
from engine.core.states import State
from engine.flows.loader import load_flow
from engine.flows.single_task import single_task_flow
from engine.flows.sla import AssertionSla, MaxDurationSla, SlaBehavior
from engine.services import execution_start
from engine.services.flow_deploy import deploy_flow
from engine.services.snapshots import load_snapshot
from engine.services.views import ExecutionView
from engine.store import executions as store
from engine.store.database import alembic_config, session_scope
from tests.support.simulation import T0, Sim

SLEEP = "tasks:\n  - {id: a, type: sleep, duration: 10s}\n"
RETURN = "tasks:\n  - {id: a, type: return, value: 3}\noutputs:\n  - {id: total, type: INT, value: '{{ outputs.a.value }}'}\n"


def flow(sla: str, tasks: str = SLEEP, extra: str = "") -> str:
    return f"id: f\nnamespace: t\n{extra}sla:\n{sla}{tasks}"


def test_kestra_and_lanner_spellings_both_load():
    result = load_flow(
        flow(
            "  - {id: fast, type: MAX_DURATION, duration: PT2S, behavior: FAIL, labels: {sla: missed}}\n"
            "  - {id: slow, type: maxDuration, duration: 1h, behaviour: none}\n"
            "  - {id: rows, type: EXECUTION_ASSERTION, assert: '{{ outputs.a.value > 1 }}', behavior: CANCEL}\n"
            "  - {id: ok, type: assertion, assert: '{{ execution.state == \"SUCCESS\" }}'}\n"
        )
    )
    assert result.ok, result.problems
    fast, slow, rows, ok = result.flow.sla
    assert isinstance(fast, MaxDurationSla) and fast.duration == dt.timedelta(seconds=2)
    assert (fast.behavior, fast.labels) == (SlaBehavior.FAIL, {"sla": "missed"})
    assert slow.behavior == SlaBehavior.NONE and slow.duration == dt.timedelta(hours=1)
    assert isinstance(rows, AssertionSla) and rows.behavior == SlaBehavior.CANCEL
    assert ok.behavior == SlaBehavior.FAIL  # the default


@pytest.mark.parametrize(
    ("entry", "line", "column", "message"),
    [
        ("  - {id: a1, type: MAX_DURATIO, duration: 1h}\n", 4, 20, "SLA 'a1': unknown type 'MAX_DURATIO' (did you mean"),
        ("  - {id: a1, type: maxDuration, duration: 2x}\n", 4, 43, "SLA 'a1': duration: '2x' is not a duration"),
        ("  - {id: a1, type: maxDuration}\n", 4, 5, "SLA 'a1': missing required property 'duration'"),
        ("  - {id: a1, type: maxDuration, duration: 1h, behavior: explode}\n", 4, 57, "behavior: Input should be"),
        ("  - {id: a1, type: assertion, assert: 'true'}\n", 4, 39, "assert: an assertion is an expression"),
        ("  - {id: a1, type: assertion, assert: '{{ x > }}'}\n", 4, 39, "SLA 'a1': invalid expression"),
        ("  - {id: a1, type: assertion, assert: '{{ outputs.b.v }}'}\n", 4, 43, "no task has that id"),
        ("  - {id: a1, type: assertion, assert: '{{ true }}', duration: 1h}\n", 4, 53, "unknown property 'duration'"),
        ("  - {id: a1, type: maxDuration, duration: 1h}\n  - {id: a1, type: maxDuration, duration: 2h}\n", 5, 10,
         "duplicate SLA id 'a1'"),
    ],
)  # fmt: skip
def test_a_wrong_sla_is_reported_at_its_line_and_column(entry, line, column, message):
    result = load_flow(flow(entry), "f.yml")
    assert not result.ok
    found = [(p.line, p.column, p.message) for p in result.problems]
    assert any((at_line, at_column) == (line, column) and message in text for at_line, at_column, text in found), found


def test_max_duration_fail_stops_the_tasks_and_fails_the_execution():
    sim = Sim(flow("  - {id: fast, type: maxDuration, duration: 2s, behavior: fail, labels: {sla: missed}}\n"))
    sim.run("a").state = State.RUNNING  # taken by a worker
    assert next_wakeup(sim.s) == T0 + dt.timedelta(seconds=2)  # the executor's timer looks then
    sim.later(1)
    assert sim.state == State.RUNNING and sim.s.execution.sla_breaches == []
    sim.later(1.5)
    assert (
        sim.state == State.KILLING and sim.s.execution.error == "SLA 'fast' breached: the execution ran longer than 2s"
    )
    (breach,) = sim.s.execution.sla_breaches
    assert {k: breach[k] for k in ("slaId", "type", "behavior", "labels")} == {
        "slaId": "fast",
        "type": "maxDuration",
        "behavior": "fail",
        "labels": {"sla": "missed"},
    }
    assert breach["at"] == (T0 + dt.timedelta(seconds=2.5)).isoformat() and sim.s.execution.labels == {"sla": "missed"}
    sim.finish("a", State.KILLED)  # its worker stopped it
    assert sim.state == State.FAILED and len(sim.s.execution.sla_breaches) == 1  # recorded once


def test_max_duration_cancel_ends_killed_and_none_only_records():
    cancel = Sim(flow("  - {id: fast, type: maxDuration, duration: 2s, behavior: cancel}\n"))
    cancel.run("a").state = State.RUNNING
    cancel.later(3)
    assert cancel.state == State.KILLING and cancel.s.execution.error is None
    cancel.finish("a", State.KILLED)
    assert cancel.state == State.KILLED and cancel.s.execution.sla_breaches[0]["behavior"] == "cancel"
    none = Sim(flow("  - {id: fast, type: maxDuration, duration: 2s, behavior: none}\n"))
    none.later(3)
    assert none.state == State.RUNNING and none.s.execution.sla_breaches[0]["slaId"] == "fast"
    assert next_wakeup(none.s) is None  # breached: no timer for it any more
    none.finish("a")
    assert none.state == State.SUCCESS and len(none.s.execution.sla_breaches) == 1


def test_a_breach_while_waiting_for_a_concurrency_slot_fails_or_cancels_at_once():
    for behavior, ended in (("fail", State.FAILED), ("cancel", State.CANCELLED)):
        sim = Sim(
            flow(f"  - {{id: fast, type: maxDuration, duration: 1s, behavior: {behavior}}}\n", extra="concurrency: {limit: 1}\n"),
            flow_running=1,
        )  # fmt: skip
        assert sim.state == State.QUEUED
        sim.later(2)
        assert sim.state == ended and sim.s.execution.ended_at == T0 + dt.timedelta(seconds=2)


@pytest.mark.parametrize(
    ("behavior", "ended", "error"),
    [
        ("fail", State.FAILED, "SLA 'rows' breached: the assertion {{ outputs.a.value > 5 }} is false"),
        ("cancel", State.KILLED, None),
        ("none", State.SUCCESS, None),
    ],
)
def test_a_false_assertion_at_the_end(behavior, ended, error):
    sim = Sim(flow(f"  - {{id: rows, type: assertion, assert: '{{{{ outputs.a.value > 5 }}}}', behavior: {behavior}}}\n", RETURN))  # fmt: skip
    sim.finish("a", outputs={"value": 3})
    assert sim.state == ended and sim.s.execution.error == error
    assert sim.s.execution.outputs == {"total": 3}  # the flow's outputs are kept whatever the behaviour
    (breach,) = sim.s.execution.sla_breaches
    assert breach["type"] == "assertion" and breach["reason"] == "the assertion {{ outputs.a.value > 5 }} is false"


def test_an_assertion_reads_the_final_state_and_outputs_and_a_true_one_is_no_breach():
    sim = Sim(
        flow(
            "  - {id: ok, type: assertion, assert: \"{{ execution.state == 'SUCCESS' and execution.outputs.total == 3 }}\"}\n"
            "  - {id: broken, type: assertion, assert: '{{ outputs.a.value.nope.deeper }}', behavior: none}\n",
            RETURN,
        )
    )  # fmt: skip
    sim.finish("a", outputs={"value": 3})
    assert sim.state == State.SUCCESS
    (breach,) = sim.s.execution.sla_breaches  # an assertion that cannot be evaluated is breached
    assert breach["slaId"] == "broken" and breach["reason"].startswith("the assertion could not be evaluated")


def test_a_failed_execution_stays_failed_whatever_the_assertion_says():
    sim = Sim(flow("  - {id: rows, type: assertion, assert: '{{ false }}', behavior: cancel}\n", "tasks:\n  - {id: a, type: fail}\n"))  # fmt: skip
    sim.finish("a", State.FAILED)
    assert sim.state == State.FAILED and sim.s.execution.sla_breaches[0]["slaId"] == "rows"


def test_the_api_view_reads_breaches_and_rows_older_than_the_column():
    base = {"id": "e", "namespace": "t", "flow_id": "f", "flow_revision": 1, "state": "FAILED", "created_at": T0}
    assert ExecutionView.model_validate({**base, "sla_breaches": None}).sla_breaches == []
    breach = {"id": "b", "slaId": "fast", "type": "maxDuration", "behavior": "fail", "labels": {}, "at": T0.isoformat(), "reason": "r"}  # fmt: skip
    view = ExecutionView.model_validate({**base, "sla_breaches": [breach]})
    assert view.model_dump(mode="json", by_alias=True)["slaBreaches"][0]["slaId"] == "fast"


def test_the_migration_adds_the_column_and_an_older_execution_reads_as_without_breaches(database):
    url = database.url.render_as_string(hide_password=False)
    with database.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in diff if "sla_breaches" in str(d)] == []
    with session_scope(database) as session:
        deploy_flow(session, "id: f\nnamespace: t\ntasks:\n  - {id: a, type: log, message: hi}\n")
        execution_id = execution_start.create_execution(session, "t", "f").id
    command.downgrade(alembic_config(url), "0017")
    assert "sla_breaches" not in {c["name"] for c in sa.inspect(database).get_columns("execution")}
    command.upgrade(alembic_config(url), "head")
    with session_scope(database) as session:
        row = store.get_execution(session, execution_id)
        assert row.sla_breaches is None and ExecutionView.of(row).sla_breaches == []
        assert load_snapshot(session, execution_id, T0).execution.sla_breaches == []


def test_a_test_of_one_task_is_not_judged_by_the_flows_slas():
    sim = Sim(flow("  - {id: rows, type: assertion, assert: '{{ outputs.a.value > 5 }}'}\n", RETURN))
    sim.s.flow = single_task_flow(sim.flow, "a")
    sim.finish("a", outputs={"value": 3})
    assert sim.state == State.SUCCESS and sim.s.execution.sla_breaches == []
