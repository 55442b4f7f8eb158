"""What people do to executions: start, kill, restart, replay, pause, resume.

Each change of state goes through the tables of ``engine/core/states.py`` (``user_action_target`` for the execution,
``check_transition`` for its task runs): an impossible change raises ``ActionRefused``/``InvalidTransition``
(both ``engine.core.errors.Conflict``). Access is decided above, in ``engine/services``, which every entry point calls.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from engine.config import load_settings
from engine.core import dag
from engine.core.errors import Conflict
from engine.core.states import TASK_RUN_TRANSITIONS, State, UserAction, check_transition, user_action_target
from engine.flows.inputs import InputsInvalid, resolve_inputs
from engine.flows.tree import find_task, handler_task_ids, task_ids
from engine.identity import audit
from engine.runtime import events
from engine.runtime.queue import enqueue_runs
from engine.services.connections import Connections
from engine.services.execution_start import create_execution, flow_at
from engine.services.views import ExecutionView
from engine.store import executions as store
from engine.store.database import session_scope
from engine.store.tables import Execution, TaskRun, utcnow
from engine.tasks.flowable import Pause
from engine.workspace import uploads
from engine.workspace.secrets import open_inputs, seal_inputs


def start_execution(engine: Connections, namespace: str, flow_id: str, **options: Any) -> str:
    """Create an execution (inputs checked) and hand it to the executors; returns its id."""
    return started_execution(engine, namespace, flow_id, **options).id


def started_execution(engine: Connections, namespace: str, flow_id: str, **options: Any) -> ExecutionView:
    """``start_execution``, giving the execution as committed (no task runs yet): an adapter answers with it
    without reading it back."""
    with session_scope(engine.db) as session:
        execution = create_execution(session, namespace, flow_id, **options)
        store.flush(session)  # the database's defaults, as a read would give them
        view = ExecutionView.of(execution, [])
    events.publish_event(engine.redis, view.id)
    return view


def kill_execution(engine: Connections, execution_id: str, *, actor: str = audit.SYSTEM) -> None:
    """Stop an execution: queued tasks are dropped, running task processes are stopped by their workers.

    The change of state is a compare-and-set on the state read, so an executor advancing the execution at the
    same moment (a QUEUED one given its slot) makes the kill look again rather than be overwritten.
    """
    for _ in range(10):
        with session_scope(engine.db) as session:
            execution = store.get_execution(session, execution_id)
            state = State(execution.state)
            target = user_action_target(UserAction.KILL, state, execution_id)
            now = utcnow()
            ended = {"ended_at": now} if target.terminal else {}
            if not store.change_execution_if(
                session, execution_id, state, {"state": target.value, "updated_at": now, **ended}
            ):
                continue
            children = store.children_of(session, execution_id)
            _audit(session, actor, audit.AuditAction.KILLED, execution)
        break
    else:
        raise store.ExecutionConflict(f"execution {execution_id} keeps changing state; try again")
    events.request_kill(engine.redis, execution_id)
    events.publish_event(engine.redis, execution_id)
    events.announce(engine.redis, execution_id, "state")
    for child in children:
        with contextlib.suppress(Conflict):  # a child that has already ended
            kill_execution(engine, child, actor=actor)


def _audit(session, actor: str, action: audit.AuditAction, execution: Execution) -> None:
    audit.record(session, actor, action, execution.namespace, "execution", execution.id, flow=execution.flow_id)


def restart_execution(engine: Connections, execution_id: str, *, actor: str = audit.SYSTEM) -> None:
    """Run a FAILED or KILLED execution again from its failed tasks: same execution, new attempts."""
    with session_scope(engine.db) as session:
        execution = store.get_execution(session, execution_id)
        target_state = user_action_target(UserAction.RESTART, State(execution.state), execution_id)
        flow = flow_at(session, execution.namespace, execution.flow_id, execution.flow_revision)
        rerun = handler_task_ids(flow)  # errors/finally tasks run again, as needed, after a restart
        runs = store.task_runs(session, execution_id)
        doomed = [r.id for r in runs if r.task_id in rerun]
        store.delete_task_runs(session, doomed)
        # A working-directory group's tasks are run again by the group's next attempt, never queued on their own.
        parents = {r.parent_task_run_id for r in runs}
        grouped = {r.id for r in runs if r.kind == "worker" and r.id in parents}
        enqueue: list[tuple[str, int, str | None]] = []  # on their groups' queues (restarts bypass the fair share)
        for run in runs:
            if run.parent_task_run_id in grouped:
                continue
            if run.id in doomed or run.state not in (State.FAILED.value, State.KILLED.value, State.CANCELLED.value):
                continue
            target = State.QUEUED if run.kind == "worker" else State.RUNNING
            check_transition(TASK_RUN_TRANSITIONS, State(run.state), target, f"task run {run.task_id}")
            store.change_task_run(
                session, run.id, {"state": target.value, "error": None, "ended_at": None, "next_attempt_at": None}
            )
            if run.kind == "worker":
                enqueue.append((run.id, run.attempt_count + 1, run.worker_group))
        execution.state, execution.ended_at, execution.error = target_state.value, None, None
        execution.updated_at = utcnow()
        store.save_execution(session, execution)
        _audit(session, actor, audit.AuditAction.RESTARTED, execution)
    engine.redis.delete(events.kill_key(execution_id))
    enqueue_runs(engine.redis, enqueue)
    events.publish_event(engine.redis, execution_id)


def replay_execution(engine: Connections, execution_id: str, from_task: str, *, actor: str = audit.SYSTEM) -> str:
    """A new execution of the same revision and inputs that keeps what ran before ``from_task``.

    Runs of the top-level tasks that ``from_task`` (or the top-level task holding it) waits for are
    copied with their outputs; everything from it on runs again.
    """
    with session_scope(engine.db) as session:
        original = store.get_execution(session, execution_id)
        flow = flow_at(session, original.namespace, original.flow_id, original.flow_revision)
        find_task(flow, from_task)  # raises LookupError for an unknown task
        top = next((t for t in flow.tasks if from_task in task_ids([t])), None)
        keep: set[str] = set()
        if top is not None:
            order = dag.predecessors([(t.id, t.depends_on) for t in flow.tasks])
            pending = list(order[top.id])
            while pending:
                task_id = pending.pop()
                if task_id not in keep:
                    keep.add(task_id)
                    pending += order[task_id]
        keep_ids = set(task_ids([t for t in flow.tasks if t.id in keep]))
        replay = create_execution(
            session,
            original.namespace,
            original.flow_id,
            inputs={**original.inputs, **open_inputs(original.secret_inputs)},  # SECRET ones sealed again
            labels=original.labels,
            revision=original.flow_revision,
            trigger={"type": "replay", "executionId": execution_id, "fromTask": from_task, "actor": actor},
            allow_disabled=True,
        )
        new_ids: dict[str, str] = {}
        for run in store.task_runs(session, execution_id):
            if run.task_id not in keep_ids or not State(run.state).succeeded:
                continue
            new_ids[run.id] = str(uuid.uuid4())
            copy = TaskRun(
                **{
                    **run.model_dump(),
                    "id": new_ids[run.id],
                    "execution_id": replay.id,
                    "parent_task_run_id": new_ids.get(run.parent_task_run_id),
                }
            )
            store.add_task_run(session, copy)
        replay_id = replay.id
    events.publish_event(engine.redis, replay_id)
    return replay_id


def pause_execution(engine: Connections, execution_id: str, *, actor: str = audit.SYSTEM) -> None:
    """Hold a running execution: tasks already running finish, no new task starts until it is resumed."""
    with session_scope(engine.db) as session:
        execution = store.get_execution(session, execution_id)
        user_action_target(UserAction.PAUSE, State(execution.state), execution_id)  # holds it: the state stays
        execution.held, execution.updated_at = True, utcnow()
        store.save_execution(session, execution)
        _audit(session, actor, audit.AuditAction.PAUSED, execution)
    events.publish_event(engine.redis, execution_id)


def resume_execution(
    engine: Connections, execution_id: str, inputs: dict[str, Any] | None = None, *, actor: str = audit.SYSTEM
) -> None:
    """Resume a held execution and its paused tasks; ``inputs`` answer the pauses' ``onResume`` declarations."""
    with session_scope(engine.db) as session:
        execution = store.get_execution(session, execution_id)
        user_action_target(UserAction.RESUME, State(execution.state), execution_id)  # releases it: the state stays
        flow = flow_at(session, execution.namespace, execution.flow_id, execution.flow_revision)
        paused = [r for r in store.task_runs(session, execution_id) if r.state == State.PAUSED.value]
        if not paused and not execution.held:
            raise store.ExecutionConflict(f"execution {execution_id} is not paused")
        for run in paused:
            task = find_task(flow, run.task_id)
            declared = task.on_resume if isinstance(task, Pause) else []
            uploaded = uploads.accept_uploads(load_settings().home, execution.namespace, execution.flow_id)
            values, errors = resolve_inputs(declared, inputs or {}, uploaded=uploaded)
            if errors:
                raise InputsInvalid(errors)
            # SECRET answers are kept encrypted, shown as ****, and opened only to render the tasks after it
            shown, sealed = seal_inputs(values, [decl.id for decl in declared if decl.kind == "SECRET"])
            secret_outputs = {**(run.secret_outputs or {}), "resumed": sealed} if sealed else run.secret_outputs
            check_transition(TASK_RUN_TRANSITIONS, State.PAUSED, State.SUCCESS, f"task run {run.task_id}")
            store.change_task_run(
                session,
                run.id,
                {
                    "state": State.SUCCESS.value,
                    "outputs": {**(run.outputs or {}), "resumed": shown},
                    "secret_outputs": secret_outputs,
                    "ended_at": utcnow(),
                },
            )
        if execution.held:
            execution.held, execution.updated_at = False, utcnow()
            store.save_execution(session, execution)
        _audit(session, actor, audit.AuditAction.RESUMED, execution)
    events.publish_event(engine.redis, execution_id)
