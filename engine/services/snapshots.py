"""One execution as ``engine.core.progress`` sees it: read from the store as a snapshot, and the difference between
two snapshots written back (new task runs, changed states, subflows started).

The executor advances an execution with these; a worker reads a snapshot to render its task.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from engine.config import load_settings
from engine.core.expression_context import flow_reads
from engine.core.progress import ExecutionView, RunView, Snapshot, StartSubflow
from engine.core.states import SETTLED, TERMINAL, State
from engine.flows.inputs import InputsInvalid
from engine.flows.single_task import pinned_outputs, single_task_flow, tested_task
from engine.flows.tree import find_task
from engine.services.execution_start import create_execution, flow_at
from engine.store import executions as store
from engine.store import namespace_settings
from engine.store.executions import ExecutionChanged, ExecutionConflict
from engine.store.flows import FlowNotFound
from engine.store.tables import utcnow
from engine.tasks.context import mask_text
from engine.workspace.kv import kv_reader
from engine.workspace.resources import limits_of, worker_group_for, worker_group_of
from engine.workspace.secrets import SecretInputs, secret_resolver
from engine.workspace.variables import inherited_variables

__all__ = ["ExecutionChanged", "Persisted", "SettledRuns", "copy_snapshot", "load_snapshot", "persist"]


# The columns the executor's views take as they are; the others are converted below.
_RUN_COLUMNS = (
    "id", "task_id", "kind", "iteration", "value", "error", "created_at", "started_at", "ended_at",
    "next_attempt_at", "retryable", "worker_group",
)  # fmt: skip
_EXECUTION_COLUMNS = (
    "id", "inputs", "labels", "trigger", "outputs", "error", "held", "flow_revision", "created_at", "started_at",
    "ended_at",
)  # fmt: skip


def _columns(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def _run_view(row: Any) -> RunView:
    """A task run (a row, or anything with its columns as attributes) as the executor sees it."""
    return RunView(
        **_columns(row, _RUN_COLUMNS),
        state=State(row.state),
        parent_id=row.parent_task_run_id,
        attempts=row.attempt_count,
        outputs=row.outputs or {},
        secret_outputs={name: SecretInputs(sealed) for name, sealed in (row.secret_outputs or {}).items()},
    )


def _execution_view(row: Any) -> ExecutionView:
    breaches = list(row.sla_breaches or [])  # NULL in rows older than the column
    return ExecutionView(**_columns(row, _EXECUTION_COLUMNS), state=State(row.state), sla_breaches=breaches)


class SettledRuns:
    """The views of settled task runs (SUCCESS, WARNING, SKIPPED: states no transition leaves), kept by one process
    between the snapshots it reads. Such a run's row never changes again, so a snapshot reads the ids and states of
    the execution's runs, and the rows of those not kept here only: an advance or a task run then reads what changed
    since, not the whole execution. Runs with SECRET outputs are not kept (a key rotation seals them again).

    Bounded by the size of what it holds (outputs may reach LANNER_MAX_OUTPUT_BYTES each), least recently used out
    first. The views are shared between snapshots: nothing changes a settled run (``progress.apply`` refuses to)."""

    def __init__(self, budget_bytes: int = 64 * 1024 * 1024) -> None:
        self.budget_bytes, self.held_bytes = budget_bytes, 0
        self._views: OrderedDict[str, tuple[RunView, int]] = OrderedDict()  # least recently used first

    def get(self, run_id: str) -> RunView | None:
        kept = self._views.get(run_id)
        if kept is None:
            return None
        self._views.move_to_end(run_id)
        return kept[0]

    def keep(self, view: RunView) -> None:
        if view.state not in SETTLED or view.secret_outputs or view.id in self._views:
            return
        size = _SIZE_OF_A_VIEW + len(json.dumps([view.outputs, view.value, view.error], default=str))
        if size > self.budget_bytes // 8:  # one huge output would push out everything else: read it each time
            return
        self._views[view.id] = (view, size)
        self.held_bytes += size
        while self.held_bytes > self.budget_bytes:
            _, (_, dropped) = self._views.popitem(last=False)
            self.held_bytes -= dropped


_SIZE_OF_A_VIEW = 1_000  # bytes a RunView and its short fields take, besides its outputs, value and error
_SETTLED_VALUES = frozenset(state.value for state in SETTLED)


def _runs(session: Session, execution_id: str, settled: SettledRuns | None) -> dict[str, RunView]:
    """The execution's task runs, oldest first; with ``settled``, only the rows of runs it does not hold are read."""
    if settled is None:
        return {row.id: _run_view(row) for row in store.task_run_rows(session, execution_id)}
    listed = store.task_run_states(session, execution_id)
    kept = {run_id: view for run_id, state in listed if state in _SETTLED_VALUES and (view := settled.get(run_id))}
    missing = [run_id for run_id, _ in listed if run_id not in kept]
    if len(missing) * 2 > len(listed):  # mostly unknown (a first read): the execution's rows in one statement
        rows = [row for row in store.task_run_rows(session, execution_id) if row.id not in kept]
    else:
        rows = store.task_run_rows_by_id(session, missing)
    fresh = {row.id: _run_view(row) for row in rows}
    for view in fresh.values():
        settled.keep(view)
    # A run created after the list was read is left for the next snapshot; one deleted since is left out.
    return {run_id: view for run_id, _ in listed if (view := kept.get(run_id) or fresh.get(run_id)) is not None}


def load_snapshot(
    session: Session,
    execution_id: str,
    now: dt.datetime,
    *,
    subflow_reach: str | None = None,
    settled: SettledRuns | None = None,
) -> Snapshot:
    """The execution, its flow, its task runs and what its expressions may read (secrets, variables).

    ``subflow_reach``: where its subflows may start (``LANNER_SUBFLOW_REACH`` when not given). ``settled``: the
    settled runs the caller keeps between snapshots (the executor's, a worker's), read only when not kept."""
    row = store.execution_row(session, execution_id)
    flow = flow_at(session, row.namespace, row.flow_id, row.flow_revision)
    tested = tested_task(row.trigger) if row.test else None
    if tested:
        flow = single_task_flow(flow, tested)
    runs = _runs(session, execution_id, settled)
    snapshot = Snapshot(
        flow,
        _execution_view(row),
        runs,
        now,
        secret=secret_resolver(session, row.namespace),
        kv=kv_reader(session, row.namespace),
        secret_inputs=SecretInputs(row.secret_inputs) if row.secret_inputs else None,
        subflow_reach=subflow_reach or load_settings().subflow_reach,
        pinned_outputs=pinned_outputs(row.trigger) if tested else {},
    )
    if flow_reads(flow, "vars"):  # most flows do not: one query fewer on every advance and every task run
        snapshot.variables = inherited_variables(session, row.namespace)
    if flow.concurrency and row.state in (State.CREATED, State.QUEUED):
        snapshot.flow_running = store.count_active(session, row.namespace, row.flow_id, besides=row.id)
    if row.state in (State.CREATED, State.QUEUED) and not row.test:
        snapshot.namespace_limit, _ = limits_of(session, row.namespace)
        if snapshot.namespace_limit:
            snapshot.namespace_running = namespace_settings.running_executions(session, row.namespace, besides=row.id)
    for run in runs.values():
        child_id = run.outputs.get("executionId") if run.kind == "executor" else None
        if child_id and not run.state.terminal:
            child = store.find_execution(session, child_id)
            if child is not None:
                snapshot.subflows[run.id] = (State(child.state), child.outputs)
    return snapshot


@dataclass
class Persisted:
    """What the executor must do after the database transaction commits."""

    # (task run id, attempt about to start, worker group): runs to send to a queue, once the namespace's fair share
    # allows (engine/runtime/fair_share.py)
    enqueue: list[tuple[str, int, str | None]] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)  # executions with new work to decide on
    released: set[str] = field(default_factory=set)  # other executions whose held runs were queued (fair share)
    ended: bool = False
    changed: bool = False
    kill: bool = False  # the execution went to KILLING: its running tasks are told to stop
    breaches: list[dict[str, Any]] = field(default_factory=list)  # SLA breaches recorded by this advance


def copy_snapshot(snapshot: Snapshot) -> Snapshot:
    """The snapshot as it is now, for ``persist`` to compare with once it advanced. Settled runs are shared, not
    copied: nothing changes them (``progress.apply`` refuses to), and most runs of a long execution are settled."""
    runs = {run_id: run if run.state in SETTLED else dataclasses.replace(run) for run_id, run in snapshot.runs.items()}
    return dataclasses.replace(snapshot, execution=dataclasses.replace(snapshot.execution), runs=runs)


def persist(session: Session, before: Snapshot, after: Snapshot, actions: list) -> Persisted:
    """Write the difference between two snapshots of one execution, and start requested subflows."""
    result = Persisted()
    now = utcnow()
    namespace_group = functools.cache(lambda: worker_group_of(session, after.flow.namespace))
    execution = after.execution
    changed: dict[str, dict[str, Any]] = {}  # run id -> its new values, written together below
    created: list[dict[str, Any]] = []  # the new runs' rows, inserted together below
    if execution != before.execution:
        values: dict[str, Any] = {
            "state": execution.state.value,
            "outputs": execution.outputs,
            "error": execution.error,
            "started_at": execution.started_at,
            "ended_at": execution.ended_at,
            "held": execution.held,
            "updated_at": now,
        }
        if execution.sla_breaches != before.execution.sla_breaches:  # a breach adds its labels too
            values.update(labels=execution.labels, sla_breaches=execution.sla_breaches)
        if execution.state in TERMINAL and execution.started_at and execution.ended_at:
            values["duration_ms"] = int((execution.ended_at - execution.started_at).total_seconds() * 1000)
        if not store.change_execution_if(session, execution.id, before.execution.state, values):
            # a person's kill changed it since the snapshot was read
            raise ExecutionChanged(f"execution {execution.id} changed while it was being advanced")
        result.ended = execution.state in TERMINAL
        result.changed = True
        result.kill = execution.state == State.KILLING and before.execution.state != State.KILLING
        result.breaches = execution.sla_breaches[len(before.execution.sla_breaches) :]
    for run_id, run in after.runs.items():
        old = before.runs.get(run_id)
        if old is run or old == run:  # the same object: a settled run, shared by both snapshots
            continue
        result.changed = True
        fields = dict(
            state=run.state.value,
            outputs=run.outputs,
            error=run.error,
            started_at=run.started_at,
            ended_at=run.ended_at,
            next_attempt_at=run.next_attempt_at,
        )
        if run.ended_at and run.started_at:
            fields["duration_ms"] = int((run.ended_at - run.started_at).total_seconds() * 1000)
        if old is None:
            if run.kind == "worker":
                run.worker_group = worker_group_for(after.flow, find_task(after.flow, run.task_id), namespace_group)
            created.append(
                dict(
                    id=run.id,
                    execution_id=execution.id,
                    namespace=after.flow.namespace,
                    flow_id=after.flow.id,
                    task_id=run.task_id,
                    parent_task_run_id=run.parent_id,
                    iteration=run.iteration,
                    kind=run.kind,
                    attempt_count=run.attempts,
                    created_at=run.created_at or now,
                    value=run.value,
                    worker_group=run.worker_group,
                    retryable=True,
                    secret_outputs=None,
                    metrics=None,
                    **{"duration_ms": None, **fields},
                )
            )
        else:
            changed[run_id] = fields
        if run.kind == "worker" and run.state == State.QUEUED and (old is None or old.state != State.QUEUED):
            result.enqueue.append((run.id, run.attempts + 1, run.worker_group))
    store.add_task_runs(session, created)
    store.change_task_runs_each(session, changed)
    for action in actions:
        if isinstance(action, StartSubflow):
            _start_subflow(session, after, action, result)
    store.flush(session)
    return result


def _file_values(snapshot: Snapshot) -> list[str]:
    """The parent's FILE input values, which its subflows may be given."""
    return [str(snapshot.execution.inputs.get(i.id)) for i in snapshot.flow.inputs if i.kind == "FILE"]


def _start_subflow(session: Session, snapshot: Snapshot, action: StartSubflow, result: Persisted) -> None:
    try:
        create_execution(
            session,
            action.namespace,
            action.flow_id,
            inputs=action.given_inputs,  # unmasked: a SECRET input of the child is given the real value
            mask=snapshot.seen_secrets,
            inherited_files=_file_values(snapshot),
            labels=action.labels,
            execution_id=action.execution_id,
            parent_execution_id=snapshot.execution.id,
            parent_task_run_id=action.run_id,
            trigger={"type": "subflow", "executionId": snapshot.execution.id},
        )
        result.notify.append(action.execution_id)
    except (FlowNotFound, InputsInvalid, ExecutionConflict) as exc:
        error = mask_text(f"subflow {action.namespace}/{action.flow_id} could not start: {exc}", snapshot.seen_secrets)
        store.change_task_run(session, action.run_id, dict(state=State.FAILED.value, error=error, ended_at=utcnow()))
        result.notify.append(snapshot.execution.id)
