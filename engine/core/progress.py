"""What runs next: a pure state machine over the flow graph and the task-run states (no I/O).

``advance(snapshot)`` repeats ``decide`` and ``apply`` on an in-memory snapshot until nothing more
can happen now, and returns every action taken. The executor loads a snapshot from the database,
calls ``advance`` and persists the actions; tests call it directly.

The parts: ``engine/core/snapshot.py`` (the snapshot and the actions), ``expression_context.py`` (what
expressions see), ``evaluator.py`` (one pass over the flow graph); this module decides at the level of the
execution (admit, kill, pause, finish), applies the actions and says when to look again. Everything is
importable from here, as before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import replace
from typing import Any

from engine.core import sla
from engine.core.evaluator import Evaluator, SubflowRefused
from engine.core.expression_context import context_for, masked, resolved
from engine.core.expressions import ExpressionError, render
from engine.core.sandbox import time_budget
from engine.core.snapshot import (
    Action,
    CreateRun,
    ExecutionView,
    RecordBreach,
    RunView,
    SetExecution,
    Snapshot,
    StartSubflow,
    UpdateRun,
    changing_runs,
)
from engine.core.states import (
    EXECUTION_TRANSITIONS,
    SETTLED,
    TASK_RUN_TRANSITIONS,
    InvalidTransition,
    State,
    check_transition,
)
from engine.flows.computed import ComputedInvalid
from engine.tasks.context import mask_text

__all__ = [
    "Action",
    "CreateRun",
    "ExecutionView",
    "RecordBreach",
    "RunView",
    "SetExecution",
    "Snapshot",
    "StartSubflow",
    "SubflowRefused",
    "UpdateRun",
    "advance",
    "apply",
    "context_for",
    "decide",
    "next_wakeup",
]


def advance(snapshot: Snapshot, max_passes: int = 10_000) -> list[Action]:
    """Decide and apply until nothing more happens now; the snapshot is updated in place."""
    taken: list[Action] = []
    snapshot.computed.clear()  # rendered for this advance: a later one sees the execution as it is then
    for _ in range(max_passes):
        actions = decide(snapshot)
        if not actions:
            return taken
        for action in actions:
            apply(snapshot, action)
        taken += actions
    raise RuntimeError("the execution did not settle; this is a bug in the state machine")


def decide(snapshot: Snapshot) -> list[Action]:
    execution, flow, now = snapshot.execution, snapshot.flow, snapshot.now
    state = execution.state
    if state.terminal:
        return []
    if breach := sla.duration_breach(snapshot):  # before anything else: a breach may end the execution
        return breach
    if state in (State.CREATED, State.QUEUED):
        return _admit(snapshot)
    if state == State.KILLING:
        return _kill(snapshot)
    if execution.held:  # paused by a person: running tasks finish, nothing new starts
        return [SetExecution(State.PAUSED)] if state == State.RUNNING else []
    try:
        timeout = _flow_timeout(snapshot)
    except ComputedInvalid as exc:  # nothing is started for an execution whose time limit cannot be known
        return [SetExecution(State.KILLING, {"error": mask_text(f"flow: {exc}", snapshot.seen_secrets)})]
    if timeout and execution.started_at and now >= execution.started_at + timeout:
        return [SetExecution(State.KILLING, {"error": f"the flow timed out after {timeout}"})]
    evaluator = Evaluator(snapshot)
    status = evaluator.block(flow.tasks, flow.errors, flow.finally_, None, None, None)
    if evaluator.actions:
        return evaluator.actions
    if status.terminal:
        if state == State.PAUSED:  # resumed as the very last thing: running again, then finished
            return [SetExecution(State.RUNNING)]
        return sla.at_end(snapshot, script_outputs(snapshot, status))
    paused = _all_waiting_on_pause(snapshot)
    if paused and state == State.RUNNING:
        return [SetExecution(State.PAUSED)]
    if not paused and state == State.PAUSED:
        return [SetExecution(State.RUNNING)]
    return []


def _flow_timeout(snapshot: Snapshot) -> dt.timedelta | None:
    """The flow's timeout, which may be computed from the execution's inputs; raises ``ComputedInvalid``."""
    return resolved(snapshot, (snapshot.execution.id, "timeout"), snapshot.flow, "timeout", None)


def _admit(snapshot: Snapshot) -> list[Action]:
    limit = snapshot.flow.concurrency
    if limit and snapshot.flow_running >= limit.limit:
        behavior = limit.behavior.value
        if behavior == "cancel":
            return [SetExecution(State.CANCELLED, {"ended_at": snapshot.now})]
        if behavior == "fail":
            error = f"the flow's concurrency limit ({limit.limit}) is reached"
            return [SetExecution(State.FAILED, {"error": error, "ended_at": snapshot.now})]
        return [] if snapshot.execution.state == State.QUEUED else [SetExecution(State.QUEUED)]
    if snapshot.namespace_limit and snapshot.namespace_running >= snapshot.namespace_limit:  # waits for a slot
        return [] if snapshot.execution.state == State.QUEUED else [SetExecution(State.QUEUED)]
    return [SetExecution(State.RUNNING, {"started_at": snapshot.now})]


def _kill(snapshot: Snapshot) -> list[Action]:
    actions: list[Action] = []
    for run in changing_runs(snapshot):
        if run.state.terminal:
            continue
        waiting = run.state in (State.QUEUED, State.RETRYING, State.CREATED, State.PAUSED)
        if waiting or run.kind == "executor":
            actions.append(UpdateRun(run.id, State.KILLED, {"ended_at": snapshot.now}))
    if actions:
        return actions
    if all(run.state.terminal for run in changing_runs(snapshot)):
        final = State.FAILED if snapshot.execution.error else State.KILLED
        return [SetExecution(final, {"ended_at": snapshot.now})]
    return []  # worker runs are being stopped; their workers report back


def script_outputs(snapshot: Snapshot, status: State) -> SetExecution:
    changes: dict[str, Any] = {"ended_at": snapshot.now}
    if status in (State.SUCCESS, State.WARNING) and snapshot.flow.outputs:
        context: dict[str, Any] | None = None
        outputs: dict[str, Any] = {}
        for output in snapshot.flow.outputs:
            try:
                context = context or context_for(snapshot)
                outputs[output.id] = render(output.value, context)
            except ExpressionError as exc:
                changes["error"] = mask_text(f"flow output '{output.id}': {exc}", snapshot.seen_secrets)
                return SetExecution(State.FAILED, changes)
        changes["outputs"] = masked(snapshot, outputs)
    return SetExecution(status, changes)


def _all_waiting_on_pause(snapshot: Snapshot) -> bool:
    runs = list(changing_runs(snapshot))
    open_leaves = [r for r in runs if not r.state.terminal and r.kind == "worker"]
    paused = [r for r in runs if r.state == State.PAUSED]
    return bool(paused) and not open_leaves


# --- applying -----------------------------------------------------------------------------------


def apply(snapshot: Snapshot, action: Action) -> None:
    """Change the in-memory snapshot as ``action`` says (checking the transition tables)."""
    if isinstance(action, SetExecution):
        execution = snapshot.execution
        check_transition(EXECUTION_TRANSITIONS, execution.state, action.state, f"execution {execution.id}")
        execution.state = action.state
        for key, value in action.changes.items():
            setattr(execution, key, value)
    elif isinstance(action, CreateRun):
        run = snapshot.runs[action.run.id] = replace(action.run)
        if snapshot.scopes is not None:
            snapshot.scopes.add(run)
        if snapshot.settled_outputs is not None:
            snapshot.settled_outputs.others.append(run)
    elif isinstance(action, UpdateRun):
        run = snapshot.runs[action.run_id]
        if run.state in SETTLED:  # snapshots share settled runs (engine/services/snapshots.py): never changed
            raise InvalidTransition(f"task run {run.task_id} has settled ({run.state}); it cannot change")
        if action.state is not None:
            check_transition(TASK_RUN_TRANSITIONS, run.state, action.state, f"task run {run.task_id}")
            run.state = action.state
        for key, value in action.changes.items():
            setattr(run, key, value)
    elif isinstance(action, RecordBreach):
        sla.apply_breach(snapshot, action)
    elif isinstance(action, StartSubflow):
        run = snapshot.runs[action.run_id]
        run.outputs = {**run.outputs, "executionId": action.execution_id}


def next_wakeup(snapshot: Snapshot) -> dt.datetime | None:
    """When the execution must be looked at again even if nothing reports: retries, pauses, timeout, SLAs."""
    times: list[dt.datetime] = []
    for run in changing_runs(snapshot):
        if run.state == State.RETRYING and run.next_attempt_at:
            times.append(run.next_attempt_at)
        if run.state == State.PAUSED and run.outputs.get("resumeAt"):
            times.append(dt.datetime.fromisoformat(run.outputs["resumeAt"]))
    execution = snapshot.execution
    # A wrong timeout fails the execution as it advances; a computed one is rendered in time, as everywhere.
    with contextlib.suppress(ComputedInvalid), time_budget():
        timeout = _flow_timeout(snapshot)
        if timeout and execution.started_at and not execution.state.terminal:
            times.append(execution.started_at + timeout)
    if deadline := sla.next_deadline(snapshot):
        times.append(deadline)
    return min(times) if times else None
