"""Executions and task runs in the database: creating them, reading a snapshot, saving what changed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from engine import audit, uploads
from engine.config import load_settings
from engine.errors import Conflict, InvalidInput, NotFound
from engine.flow import Flow
from engine.inputs import resolve_inputs
from engine.loader import load_flow_or_raise
from engine.progress import ExecutionView, RunView, Snapshot, StartSubflow
from engine.runtime import mask_text, mask_value
from engine.secrets import SecretInputs, seal_inputs, secret_resolver
from engine.states import TERMINAL, State
from engine.store.flows import FlowNotFound, get_flow, get_revision
from engine.store.tables import Execution, TaskRun, TaskRunAttempt, utcnow
from engine.variables import inherited_variables

ACTIVE = (State.RUNNING, State.PAUSED, State.KILLING)


class InputsInvalid(InvalidInput):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        self.details = {"inputs": errors}
        super().__init__("; ".join(errors.values()))


class ExecutionNotFound(NotFound):
    pass


class ExecutionConflict(Conflict):
    """The execution is not in a state that allows what was asked (e.g. killing a finished one)."""


class ExecutionChanged(RuntimeError):
    """The execution's state changed between reading its snapshot and saving the advance: decide again."""


_FLOWS: dict[tuple[str, str, int], Flow] = {}


def flow_at(session: Session, namespace: str, flow_id: str, revision: int, source: str | None = None) -> Flow:
    """The flow as it was at ``revision``. Revisions never change, so each is read and parsed once per process."""
    key = (namespace, flow_id, revision)
    flow = _FLOWS.get(key)
    if flow is None:
        if source is None:
            source = get_revision(session, namespace, flow_id, revision).source
        flow = load_flow_or_raise(source, f"{namespace}/{flow_id}@{revision}")
        if len(_FLOWS) > 2048:
            _FLOWS.clear()
        _FLOWS[key] = flow
    return flow


def create_execution(
    session: Session,
    namespace: str,
    flow_id: str,
    *,
    inputs: dict[str, Any] | None = None,
    labels: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
    revision: int | None = None,
    execution_id: str | None = None,
    parent_execution_id: str | None = None,
    parent_task_run_id: str | None = None,
    allow_disabled: bool = False,
    mask: Iterable[str] = (),
    inherited_files: Iterable[str] = (),
) -> Execution:
    """A new CREATED execution; inputs are checked against the flow's declarations first.

    SECRET inputs are stored encrypted and shown as ``****``; ``mask`` are secret values that must not appear
    in the other inputs either (a subflow's inputs rendered from its parent's secrets). A FILE input takes only a
    file uploaded for this flow, or one of ``inherited_files`` (its parent's FILE values, for a subflow).
    """
    record = get_flow(session, namespace, flow_id)
    current = revision is None or revision == record.revision
    revision = revision or record.revision
    flow = flow_at(session, namespace, flow_id, revision, record.source if current else None)
    if flow.disabled and not allow_disabled:
        raise ExecutionConflict(f"flow {namespace}/{flow_id} is disabled")
    uploaded = uploads.accept_uploads(load_settings().home, namespace, flow_id, inherited_files)
    values, errors = resolve_inputs(flow.inputs, inputs or {}, uploaded=uploaded)
    if errors:
        raise InputsInvalid(errors)
    shown, sealed = seal_inputs(values, [decl.id for decl in flow.inputs if decl.kind == "SECRET"])
    now = utcnow()
    execution = Execution(
        id=execution_id or str(uuid.uuid4()),
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=revision,
        state=State.CREATED.value,
        inputs=mask_value(shown, set(mask)),
        secret_inputs=sealed or None,
        labels={**flow.labels, **(labels or {})},
        trigger=trigger,
        parent_execution_id=parent_execution_id,
        parent_task_run_id=parent_task_run_id,
        created_at=now,
        updated_at=now,
    )
    session.add(execution)
    session.flush()
    ran = audit.AuditAction.RAN
    audit.record(session, _actor(trigger), ran, namespace, "execution", execution.id, flow=flow_id, revision=revision)
    return execution


def _actor(trigger: dict[str, Any] | None) -> str:
    """Who started a run, as far as the trigger tells (a person once the studio and API know who calls)."""
    trigger = trigger or {}
    kind = str(trigger.get("type") or "")
    if trigger.get("actor"):
        return str(trigger["actor"])
    if kind == "webhook":
        return audit.WEBHOOK
    return kind if kind in ("api", "studio", "cli") else audit.SYSTEM


def get_execution(session: Session, execution_id: str) -> Execution:
    execution = session.get(Execution, execution_id)
    if execution is None:
        raise ExecutionNotFound(f"no execution {execution_id}")
    return execution


def task_runs(session: Session, execution_id: str) -> list[TaskRun]:
    statement = select(TaskRun).where(TaskRun.execution_id == execution_id).order_by(col(TaskRun.created_at))
    return list(session.exec(statement))


def execution_with_runs(session: Session, execution_id: str) -> tuple[Execution, list[TaskRun]]:
    """The execution and its task runs as of one instant: one statement, so one snapshot on every database.

    Read apart, a run that ends between the two reads shows an execution older than its task runs (a badge saying
    RUNNING above finished nodes) or, read the other way round, an ended execution above running nodes, after which
    a page that stops following once the execution ended keeps the stale nodes for good.
    """
    statement = (
        select(Execution, TaskRun)
        .outerjoin(TaskRun, col(TaskRun.execution_id) == col(Execution.id))
        .where(col(Execution.id) == execution_id)
        .order_by(col(TaskRun.created_at))
    )
    rows = list(session.exec(statement))
    if not rows:
        raise ExecutionNotFound(f"no execution {execution_id}")
    return rows[0][0], [run for _, run in rows if run is not None]


def task_run_attempts(session: Session, execution_id: str) -> list[TaskRunAttempt]:
    """Every attempt of the execution's task runs, in no particular order."""
    statement = (
        select(TaskRunAttempt)
        .join(TaskRun, col(TaskRun.id) == col(TaskRunAttempt.task_run_id))
        .where(TaskRun.execution_id == execution_id)
    )
    return list(session.exec(statement))


def _run_view(row: TaskRun) -> RunView:
    return RunView(
        id=row.id,
        task_id=row.task_id,
        state=State(row.state),
        kind=row.kind,
        parent_id=row.parent_task_run_id,
        iteration=row.iteration,
        value=row.value,
        attempts=row.attempt_count,
        outputs=row.outputs or {},
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        next_attempt_at=row.next_attempt_at,
        retryable=row.retryable,
        secret_outputs={name: SecretInputs(sealed) for name, sealed in (row.secret_outputs or {}).items()},
    )


def _execution_view(row: Execution) -> ExecutionView:
    return ExecutionView(
        id=row.id,
        state=State(row.state),
        inputs=row.inputs,
        labels=row.labels,
        trigger=row.trigger,
        outputs=row.outputs,
        error=row.error,
        held=row.held,
        flow_revision=row.flow_revision,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


def load_snapshot(session: Session, execution_id: str, now: dt.datetime) -> Snapshot:
    row = get_execution(session, execution_id)
    flow = flow_at(session, row.namespace, row.flow_id, row.flow_revision)
    runs = {r.id: _run_view(r) for r in task_runs(session, execution_id)}
    snapshot = Snapshot(
        flow,
        _execution_view(row),
        runs,
        now,
        secret=secret_resolver(session, row.namespace),
        secret_inputs=SecretInputs(row.secret_inputs) if row.secret_inputs else None,
        subflow_reach=load_settings().subflow_reach,
    )
    snapshot.variables = inherited_variables(session, row.namespace)
    if flow.concurrency and row.state in (State.CREATED, State.QUEUED):
        snapshot.flow_running = session.exec(
            select(func.count())
            .select_from(Execution)
            .where(
                Execution.namespace == row.namespace,
                Execution.flow_id == row.flow_id,
                col(Execution.state).in_([s.value for s in ACTIVE]),
                Execution.id != row.id,
            )
        ).one()
    for run in runs.values():
        child_id = run.outputs.get("executionId") if run.kind == "executor" else None
        if child_id and not run.state.terminal:
            child = session.get(Execution, child_id)
            if child is not None:
                snapshot.subflows[run.id] = (State(child.state), child.outputs)
    return snapshot


@dataclass
class Persisted:
    """What the executor must do after the database transaction commits."""

    enqueue: list[tuple[str, int]] = field(default_factory=list)  # (task run id, attempt about to start)
    notify: list[str] = field(default_factory=list)  # executions with new work to decide on
    ended: bool = False
    changed: bool = False


def copy_snapshot(snapshot: Snapshot) -> Snapshot:
    return replace(
        snapshot, execution=replace(snapshot.execution), runs={k: replace(v) for k, v in snapshot.runs.items()}
    )


def persist(session: Session, before: Snapshot, after: Snapshot, actions: list) -> Persisted:
    """Write the difference between two snapshots of one execution, and start requested subflows."""
    result = Persisted()
    now = utcnow()
    execution = after.execution
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
        if execution.state in TERMINAL and execution.started_at and execution.ended_at:
            values["duration_ms"] = int((execution.ended_at - execution.started_at).total_seconds() * 1000)
        changed = session.execute(
            update(Execution)
            .where(col(Execution.id) == execution.id, col(Execution.state) == before.execution.state.value)
            .values(**values)
        ).rowcount
        if not changed:  # a person's kill changed it since the snapshot was read
            raise ExecutionChanged(f"execution {execution.id} changed while it was being advanced")
        result.ended = execution.state in TERMINAL
        result.changed = True
    for run_id, run in after.runs.items():
        old = before.runs.get(run_id)
        if old == run:
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
            session.add(
                TaskRun(
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
                    **fields,
                )
            )
        else:
            session.execute(update(TaskRun).where(col(TaskRun.id) == run_id).values(**fields))
        if run.kind == "worker" and run.state == State.QUEUED and (old is None or old.state != State.QUEUED):
            result.enqueue.append((run.id, run.attempts + 1))
    for action in actions:
        if isinstance(action, StartSubflow):
            _start_subflow(session, after, action, result)
    session.flush()
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
        session.execute(
            update(TaskRun)
            .where(col(TaskRun.id) == action.run_id)
            .values(state=State.FAILED.value, error=error, ended_at=utcnow())
        )
        result.notify.append(snapshot.execution.id)


def claim_attempt(session: Session, task_run_id: str, worker: str, attempt: int | None = None) -> TaskRun | None:
    """Start attempt ``attempt`` (None: the next one) of a queued run, as one compare-and-set: the single
    guard against running an attempt twice. None when the run does not wait for that attempt (a duplicate
    job, a job for an attempt already claimed, or a killed run)."""
    now = utcnow()
    waiting = [col(TaskRun.id) == task_run_id, col(TaskRun.state) == State.QUEUED.value]
    if attempt is not None:
        waiting.append(col(TaskRun.attempt_count) == attempt - 1)
    run = session.scalars(
        update(TaskRun)
        .where(*waiting)
        .values(state=State.RUNNING.value, attempt_count=TaskRun.attempt_count + 1, started_at=now, retryable=True)
        .returning(TaskRun)
    ).first()
    if run is None:
        return None
    session.add(
        TaskRunAttempt(
            task_run_id=run.id, attempt=run.attempt_count, state=State.RUNNING.value, worker=worker, started_at=now
        )
    )
    return run


def finish_attempt(
    session: Session, run: TaskRun, state: State, *, outputs: dict[str, Any], error: str | None, retryable: bool = True
) -> bool:
    """Record the end of the running attempt; False if the run was no longer RUNNING (lost, then retried).
    ``retryable`` False: the attempt failed for a reason no retry cures, so the retry policy does not apply."""
    now = utcnow()
    duration = int((now - run.started_at).total_seconds() * 1000) if run.started_at else None
    done = session.execute(
        update(TaskRun)
        .where(
            col(TaskRun.id) == run.id,
            col(TaskRun.state) == State.RUNNING.value,
            col(TaskRun.attempt_count) == run.attempt_count,
        )
        .values(
            state=state.value, outputs=outputs, error=error, ended_at=now, duration_ms=duration, retryable=retryable
        )
    ).rowcount
    session.execute(
        update(TaskRunAttempt)
        .where(col(TaskRunAttempt.task_run_id) == run.id, col(TaskRunAttempt.attempt) == run.attempt_count)
        .values(state=state.value, error=error, ended_at=now)
    )
    return bool(done)


def fail_lost_attempt(session: Session, run_id: str, attempt: int, reason: str) -> bool:
    """A worker vanished mid-attempt: the attempt fails, and the executor applies the retry policy."""
    now = utcnow()
    done = session.execute(
        update(TaskRun)
        .where(
            col(TaskRun.id) == run_id,
            col(TaskRun.state) == State.RUNNING.value,
            col(TaskRun.attempt_count) == attempt,
            col(TaskRun.kind) == "worker",
        )
        .values(state=State.FAILED.value, error=reason, ended_at=now)
    ).rowcount
    session.execute(
        update(TaskRunAttempt)
        .where(col(TaskRunAttempt.task_run_id) == run_id, col(TaskRunAttempt.attempt) == attempt)
        .values(state=State.FAILED.value, error=reason, ended_at=now)
    )
    return bool(done)
