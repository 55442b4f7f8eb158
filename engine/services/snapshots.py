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
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlmodel import Session

from engine.config import load_settings
from engine.core.expression_context import flow_reads
from engine.core.namespaces import lineage
from engine.core.progress import ExecutionView, RunView, Snapshot, StartSubflow
from engine.core.snapshot import Scopes, SettledOutputs, changing_runs, run_scopes
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


def _copy(view: RunView) -> RunView:
    """A shallow copy of a view (its fields as they are; what an advance changes it replaces, never edits), made
    without the dataclass machinery: an advance copies every unsettled run to compare with."""
    copy = object.__new__(RunView)
    copy.__dict__.update(view.__dict__)
    return copy


def _creation(view: RunView) -> dt.datetime:
    return view.created_at or dt.datetime.min


def _execution_view(row: Any) -> ExecutionView:
    breaches = list(row.sla_breaches or [])  # NULL in rows older than the column
    return ExecutionView(**_columns(row, _EXECUTION_COLUMNS), state=State(row.state), sla_breaches=breaches)


@dataclass
class _Read:
    """What the last snapshot of one execution was read from: what was kept (None: nothing, or read whole), how
    many runs it held then, the count of runs the database had that it did not hold (``_Kept.offset``), the
    version of each run as read."""

    kept: _Kept | None
    held: int
    offset: int
    versions: dict[str, int]


@dataclass
class _Kept:
    """One execution's runs as a process last saw them, with what its snapshots worked out about them. The next
    snapshot of the execution takes it over, dictionaries and all: nothing is copied on a read."""

    generation: int
    runs: dict[str, RunView]  # oldest first
    scopes: Scopes | None  # the runs by task list (an executor's: a worker walks no task list)
    prefixes: dict[tuple[str | None, int | None, str], tuple[int, bool]]
    # Runs the database counted as created (``runs_created``) that ``runs`` does not hold: deleted ones, those
    # created before the count began. Only differences are compared.
    offset: int
    # The runs that had not settled, each with the version of its row as read (-1: not read, one the snapshot
    # created): read again only once their version differs.
    unsettled: dict[str, int]
    sealed: tuple[str, ...]  # settled runs with SECRET outputs: read again each time (a key rotation seals them anew)
    newest: dt.datetime | None  # when the newest of ``runs`` was created
    lone: SettledOutputs  # its ``others``: the settled runs of tasks with several runs (foreach iterations)
    size: int


class SettledRuns:
    """The task runs of the executions one process advances (or runs tasks of), as it last saw them, so that the
    next snapshot of each reads again only the runs that may have changed: SUCCESS, WARNING and SKIPPED are states no
    transition leaves, so a settled run's row never changes again. What is kept is trusted while the execution's runs
    generation has not changed (deleting runs raises it) and the runs the database counted as created grew by as
    many as the snapshot holds (one created and settled by another process with a clock behind, or committed late,
    would be missed: the execution is read again whole).

    A read takes over what was kept of its execution (an advance changes its snapshot's runs in place): until
    ``keep`` gives it back, nothing is kept of it, so an advance that fails leaves nothing to undo, and the next
    read of the execution reads it whole. Copying instead cost every advance and every task run a copy of each
    execution-wide dictionary: linear in the execution, which a flow of thousands of tasks felt.

    Bounded by the size of what it holds (outputs may reach LANNER_MAX_OUTPUT_BYTES each), the least recently used
    execution out first. Settled views are shared between snapshots: nothing changes them (``progress.apply``
    refuses to)."""

    def __init__(self, budget_bytes: int = 64 * 1024 * 1024, *, advancing: bool = False) -> None:
        """``advancing``: the snapshots are advanced (the executor's): the runs read again come with the worker
        group the namespace inherits, and their task lists are kept with them. A worker only reads its snapshots:
        they go without either."""
        self.budget_bytes, self.held_bytes = budget_bytes, 0
        self.advancing = advancing
        self._kept: OrderedDict[str, _Kept] = OrderedDict()  # least recently used first
        self._reads: dict[str, _Read] = {}  # what the last snapshot of each execution was read from

    def read(self, session: Session, snapshot: Snapshot) -> Iterable[RunView]:
        """The execution's runs into ``snapshot``, oldest first, reading again only those that may have changed
        since they were kept; with what earlier snapshots worked out about the settled ones (the runs by task list,
        the settled prefixes, the settled outputs). Returns the runs read (the others have settled)."""
        execution_id = snapshot.execution.id
        self._reads.pop(execution_id, None)
        kept = self._take(execution_id)
        if kept is None or kept.generation != snapshot.runs_generation or kept.newest is None:
            return self._read_whole(session, snapshot, snapshot.runs_created)
        chain = lineage(snapshot.flow.namespace) if self.advancing else None
        known = [(run_id, version) for run_id, version in kept.unsettled.items() if version >= 0]
        rows, created, group = store.changed_task_runs(
            session, execution_id, [*kept.unsettled, *kept.sealed], kept.newest, chain, known
        )
        if chain is not None:
            snapshot.namespace_worker_group = lambda: group
        runs, scopes, held = kept.runs, kept.scopes, len(kept.runs)
        versions = {row.id: row.version for row in rows}
        # Unsettled runs still at the version kept, then those read again, oldest first: a later run of a task in
        # the same task list replaces an earlier one in scopes.
        current = [runs[run_id] for run_id in kept.unsettled if run_id not in versions and run_id in runs]
        current += [_run_view(row) for row in rows]
        current.sort(key=_creation)
        for view in current:
            runs[view.id] = view
            if scopes is not None:
                scopes.add(view)
            versions.setdefault(view.id, kept.unsettled.get(view.id, -1))
        # The count comes with the runs, as of the same moment: a run it counts that they do not show was missed
        # (one created and settled by a process with a clock behind): the execution is read again whole, from a
        # count read before that read.
        if len(runs) + kept.offset != created:
            return self._read_whole(session, snapshot, created)
        snapshot.runs, snapshot.scopes, snapshot.settled_prefixes = runs, scopes, kept.prefixes
        lone = kept.lone
        snapshot.settled_outputs = SettledOutputs(lone.outputs, lone.runs, [*lone.others, *current])
        self._reads[execution_id] = _Read(kept, held, kept.offset, versions)
        return current

    def _take(self, execution_id: str) -> _Kept | None:
        kept = self._kept.pop(execution_id, None)
        if kept is not None:
            self.held_bytes -= kept.size
        return kept

    def _read_whole(self, session: Session, snapshot: Snapshot, created_before: int) -> Iterable[RunView]:
        """Every run of the execution; ``created_before``: its count of runs created, read before them (a run
        created in between makes the next snapshot read whole again, never one missed)."""
        rows = store.task_run_rows(session, snapshot.execution.id)
        snapshot.runs = {row.id: _run_view(row) for row in rows}
        versions = {row.id: row.version for row in rows}
        self._reads[snapshot.execution.id] = _Read(None, 0, created_before - len(snapshot.runs), versions)
        return snapshot.runs.values()

    def keep(self, snapshot: Snapshot) -> None:
        """Keep the runs of a snapshot ``read`` gave (as they are committed now) for the next snapshot of its
        execution, which takes them over: the caller may go on reading the snapshot, not change it. Only the runs
        not settled before are looked at: the others were counted then."""
        execution = snapshot.execution
        read = self._reads.pop(execution.id, None)  # its offset: runs it adds itself were counted by the database too
        self._take(execution.id)  # what another snapshot of it kept meanwhile: this one, or nothing, replaces it
        if execution.state.terminal or read is None:
            return
        earlier = read.kept
        runs = snapshot.runs
        if earlier is None:
            looked_at, size, newest = list(runs.values()), 0, None
            lone = SettledOutputs({}, {}, [])
        else:  # the runs new since (at the end: runs are only added) and those that were not settled
            added = len(runs) - read.held
            looked_at = [runs[run_id] for run_id in (*earlier.unsettled, *earlier.sealed) if run_id in runs]
            looked_at += [runs[run_id] for run_id in islice(reversed(runs), added)] if added > 0 else []
            size, newest, lone = earlier.size, earlier.newest, earlier.lone
        unsettled, sealed, several = {}, [], {other.task_id for other in lone.others}
        for view in looked_at:
            if view.created_at and (newest is None or view.created_at > newest):
                newest = view.created_at
            if view.state not in SETTLED:
                # As read: one this snapshot changed was written at a later version, so it is read again.
                unsettled[view.id] = read.versions.get(view.id, -1)
                continue
            if earlier is not None and view.id in earlier.sealed:
                sealed.append(view.id)
                continue
            size += _SIZE_OF_A_VIEW + len(json.dumps([view.outputs, view.value, view.error], default=str))
            if view.secret_outputs:
                sealed.append(view.id)
            else:
                _add_settled(lone, several, view)
        # The snapshot's expressions, still to come on a worker, read the settled outputs as now kept.
        snapshot.settled_outputs = SettledOutputs(
            lone.outputs, lone.runs, [*lone.others, *(runs[run_id] for run_id in (*unsettled, *sealed))]
        )
        if size > self.budget_bytes // 8:  # one huge execution would push out everything else: read it each time
            return
        scopes = run_scopes(snapshot) if self.advancing else None
        self._kept[execution.id] = _Kept(
            snapshot.runs_generation, runs, scopes, snapshot.settled_prefixes, read.offset, unsettled, tuple(sealed),
            newest, lone, size,
        )  # fmt: skip
        self.held_bytes += size
        while self.held_bytes > self.budget_bytes:
            _, dropped = self._kept.popitem(last=False)
            self.held_bytes -= dropped.size


def _add_settled(lone: SettledOutputs, several: set[str], view: RunView) -> None:
    """A newly settled run among the kept outputs: alone of its task, or with the task's other runs (``several``:
    the tasks of ``lone.others``)."""
    earlier = lone.runs.pop(view.task_id, None)
    if earlier is None and view.task_id not in several:
        lone.runs[view.task_id], lone.outputs[view.task_id] = view, view.outputs
        return
    if earlier is not None:
        del lone.outputs[view.task_id]
        lone.others.append(earlier)
    several.add(view.task_id)
    lone.others.append(view)


_SIZE_OF_A_VIEW = 1_000  # bytes a RunView and its short fields take, besides its outputs, value and error


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
    snapshot = Snapshot(
        flow,
        _execution_view(row),
        {},
        now,
        runs_generation=row.runs_generation,
        runs_created=row.runs_created,
        namespace_worker_group=functools.cache(lambda: worker_group_of(session, row.namespace)),
        secret=secret_resolver(session, row.namespace),
        kv=kv_reader(session, row.namespace),
        secret_inputs=SecretInputs(row.secret_inputs) if row.secret_inputs else None,
        subflow_reach=subflow_reach or load_settings().subflow_reach,
        pinned_outputs=pinned_outputs(row.trigger) if tested else {},
    )
    if settled is None:
        snapshot.runs = {row.id: _run_view(row) for row in store.task_run_rows(session, execution_id)}
    read = settled.read(session, snapshot) if settled else snapshot.runs.values()
    if flow_reads(flow, "vars"):  # most flows do not: one query fewer on every advance and every task run
        snapshot.variables = inherited_variables(session, row.namespace)
    if flow.concurrency and row.state in (State.CREATED, State.QUEUED):
        snapshot.flow_running = store.count_active(session, row.namespace, row.flow_id, besides=row.id)
    if row.state in (State.CREATED, State.QUEUED) and not row.test:
        snapshot.namespace_limit, _ = limits_of(session, row.namespace)
        if snapshot.namespace_limit:
            snapshot.namespace_running = namespace_settings.running_executions(session, row.namespace, besides=row.id)
    for run in read:  # the settled runs not read again have ended
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
    """The snapshot as it is now, for ``persist`` to compare with once it advanced: the runs it may change (the
    others are settled runs alone of their task, which nothing changes), those not settled copied. The settled
    ones are shared: ``progress.apply`` refuses to change them, and most runs of a long execution are settled."""
    runs = {run.id: run if run.state in SETTLED else _copy(run) for run in changing_runs(snapshot)}
    execution = dataclasses.replace(snapshot.execution)
    return dataclasses.replace(
        snapshot, execution=execution, runs=runs, scopes=None, settled_prefixes={}, settled_outputs=None
    )


def persist(session: Session, before: Snapshot, after: Snapshot, actions: list) -> Persisted:
    """Write the difference between two snapshots of one execution, and start requested subflows."""
    result = Persisted()
    now = utcnow()
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
    for run in changing_runs(after):  # the others are settled runs, shared by both snapshots
        run_id, old = run.id, before.runs.get(run.id)
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
                task = find_task(after.flow, run.task_id)
                run.worker_group = worker_group_for(after.flow, task, after.namespace_worker_group)
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
