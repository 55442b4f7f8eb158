"""SLA breaches as the state machine decides them (no I/O): a maxDuration past its deadline, an assertion false at
the end, and what each behaviour does to the execution. The flow language's side is engine/flows/sla.py; what
happens around a recorded breach (log line, flow triggers, metrics) is engine/runtime/sla_breaches.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from engine.core.durations import format_duration
from engine.core.expression_context import context_for
from engine.core.expressions import ExpressionError, render, truthy
from engine.core.snapshot import Action, RecordBreach, SetExecution, Snapshot
from engine.core.states import State
from engine.flows.sla import AssertionSla, MaxDurationSla, SlaBehavior
from engine.tasks.context import mask_text

_S = State
# Where a breach takes an execution, by behaviour and by the state it is in (a state not listed: only recorded).
# A running execution stops its tasks first (KILLING), and ends FAILED when an error is set (fail), else KILLED.
BREACH_TARGETS: Mapping[SlaBehavior, Mapping[State, State]] = MappingProxyType(
    {
        SlaBehavior.FAIL: {_S.CREATED: _S.FAILED, _S.QUEUED: _S.FAILED, _S.RUNNING: _S.KILLING, _S.PAUSED: _S.KILLING},
        SlaBehavior.CANCEL: {
            _S.CREATED: _S.CANCELLED,
            _S.QUEUED: _S.CANCELLED,
            _S.RUNNING: _S.KILLING,
            _S.PAUSED: _S.KILLING,
        },
        SlaBehavior.NONE: {},
    }
)
# Where an assertion breached at the end takes the state the execution was about to end in.
END_TARGETS: Mapping[SlaBehavior, Mapping[State, State]] = MappingProxyType(
    {
        SlaBehavior.FAIL: {_S.SUCCESS: _S.FAILED, _S.WARNING: _S.FAILED},
        SlaBehavior.CANCEL: {_S.SUCCESS: _S.KILLING, _S.WARNING: _S.KILLING},  # then KILLED, as a person's kill
        SlaBehavior.NONE: {},
    }
)


def breached_ids(snapshot: Snapshot) -> set[str]:
    return {breach["slaId"] for breach in snapshot.execution.sla_breaches}


def duration_breach(snapshot: Snapshot) -> list[Action]:
    """The first maxDuration SLA past its deadline and not breached yet: its breach and what its behaviour does."""
    execution = snapshot.execution
    done = breached_ids(snapshot)
    for sla in snapshot.flow.sla:
        if not isinstance(sla, MaxDurationSla) or sla.id in done or execution.created_at is None:
            continue
        if snapshot.now >= execution.created_at + sla.duration:
            breach = _breach(snapshot, sla, f"the execution ran longer than {format_duration(sla.duration)}")
            target = BREACH_TARGETS[sla.behavior].get(execution.state)
            if target is None:
                return [RecordBreach(breach)]
            changes: dict[str, Any] = {"ended_at": snapshot.now} if target.terminal else {}
            if sla.behavior == SlaBehavior.FAIL:
                changes["error"] = error_of(breach)
            return [RecordBreach(breach), SetExecution(target, changes)]
    return []


def at_end(snapshot: Snapshot, final: SetExecution) -> list[Action]:
    """The execution's tasks have ended as ``final`` says: its assertions are checked against it first."""
    pending = [s for s in snapshot.flow.sla if isinstance(s, AssertionSla) and s.id not in breached_ids(snapshot)]
    if not pending:
        return [final]
    context = context_for(snapshot)
    outputs = final.changes.get("outputs", snapshot.execution.outputs)
    context["execution"] = {**context["execution"], "state": str(final.state), "outputs": outputs}
    actions: list[Action] = []
    for sla in pending:
        try:
            if truthy(render(sla.assert_, context)):
                continue
            reason = f"the assertion {sla.assert_} is false"
        except ExpressionError as exc:
            reason = f"the assertion could not be evaluated: {exc}"
        breach = _breach(snapshot, sla, reason)
        actions.append(RecordBreach(breach))
        target = END_TARGETS[sla.behavior].get(final.state)
        if target is not None:
            changes = {**final.changes}
            if target == State.FAILED:
                changes["error"] = error_of(breach)
            if not target.terminal:
                changes.pop("ended_at", None)  # KILLING: it ends when its runs are all stopped
            final = SetExecution(target, changes)
    return [*actions, final]


def next_deadline(snapshot: Snapshot) -> dt.datetime | None:
    """When the earliest maxDuration SLA not breached yet is due (the executor's timer looks then)."""
    execution = snapshot.execution
    if execution.state.terminal or execution.created_at is None:
        return None
    done = breached_ids(snapshot)
    due = [
        execution.created_at + sla.duration
        for sla in snapshot.flow.sla
        if isinstance(sla, MaxDurationSla) and sla.id not in done
    ]
    return min(due, default=None)


def error_of(breach: dict[str, Any]) -> str:
    """The execution's error when a breach fails it."""
    return f"SLA '{breach['slaId']}' breached: {breach['reason']}"


def _breach(snapshot: Snapshot, sla: MaxDurationSla | AssertionSla, reason: str) -> dict[str, Any]:
    return {
        "id": snapshot.new_id(),
        "slaId": sla.id,
        "type": sla.kind.value,
        "behavior": sla.behavior.value,
        "labels": dict(sla.labels),
        "at": snapshot.now.isoformat(),
        "reason": mask_text(reason, snapshot.seen_secrets),
    }


def apply_breach(snapshot: Snapshot, action: RecordBreach) -> None:
    """Record the breach on the in-memory execution (new lists and maps: the executor's copy before stays as it was)."""
    execution = snapshot.execution
    execution.sla_breaches = [*execution.sla_breaches, action.breach]
    execution.labels = {**execution.labels, **action.breach["labels"]}
