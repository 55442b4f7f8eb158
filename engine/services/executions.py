"""Executions: start, read, search, kill, restart, replay, pause, resume, delete, logs.

Every function decides the caller's access once, then calls ``engine.services.commands`` (state changes through the
transition tables, audit written in the same transaction) or the store, and returns views. ``actor`` is the
name the audit trail and the trigger record: the caller's name unless the adapter says otherwise (the API
records "api" on a local install without users).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from sqlalchemy import Engine
from sqlmodel import Session

from engine.core.errors import NotFound
from engine.core.states import State
from engine.flows.inputs import Input
from engine.flows.tree import find_task, task_ids
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.runtime.worker_groups import waiting_reason
from engine.services import commands
from engine.services.connections import Connections
from engine.services.execution_start import flow_at
from engine.services.views import AttemptView, ExecutionPageView, ExecutionView, LogLineView
from engine.storage import Storage, open_storage
from engine.store import executions as store
from engine.store import flows as flow_store
from engine.store import search as search_store
from engine.store.database import session_scope
from engine.store.logs import read_logs
from engine.store.search import ExecutionFilter
from engine.store.tables import Execution

__all__ = ["ExecutionFilter"]  # the search filter adapters fill (its ``where`` is set here)
Result = TypeVar("Result")
logger = logging.getLogger(__name__)


class TaskNotFound(NotFound):
    """A task id that is not in the flow revision an execution ran."""


def _allowed(session: Session, principal: Principal, action: Action, execution_id: str) -> Execution:
    return authz.require_execution(session, principal, action, execution_id)


def _view(session: Session, execution_id: str) -> ExecutionView:
    return ExecutionView.of(*store.execution_with_runs(session, execution_id))  # state and task runs agree


def read(db: Engine, execution_id: str) -> ExecutionView:
    """An execution with its task runs, for a caller that has already decided access (a share link, a
    freshly started execution)."""
    with Session(db) as session:
        return _view(session, execution_id)


def get(db: Engine, principal: Principal, execution_id: str) -> ExecutionView:
    """An execution with its task runs; ``NotFound`` alike for a missing one and one the caller may not read."""
    with Session(db) as session:
        view = _view(session, execution_id)  # a missing one: the same NotFound as one the caller may not read
    # Read first, shown only once allowed: one read of the execution, not one to decide and one to show.
    authz.require_execution_in(principal, Action.READ, execution_id, view.namespace)
    return view


def with_waiting(r: redis.Redis, execution: ExecutionView) -> ExecutionView:
    """The execution with the reason each of its task runs not started yet waits (its namespace's fair share, or no
    live worker in its group); without them when Redis cannot be asked."""
    try:
        reasons = [
            waiting_reason(r, run.state, run.worker_group, execution.namespace) for run in execution.task_runs or []
        ]
    except redis.RedisError:
        return execution
    if not any(reasons):  # nothing waits (most runs have started or ended): the runs as they are
        return execution
    runs = [
        run if reason is None else run.model_copy(update={"waiting": reason})
        for run, reason in zip(execution.task_runs or [], reasons, strict=True)
    ]
    return execution.model_copy(update={"task_runs": runs}) if execution.task_runs is not None else execution


def require(db: Engine, principal: Principal, action: Action, execution_id: str) -> ExecutionView:
    """The execution (without task runs) once ``principal`` may do ``action`` on it: for an adapter that does
    more than one service call about it (a live stream checks again every few seconds)."""
    with Session(db) as session:
        return ExecutionView.of(_allowed(session, principal, action, execution_id))


def search(
    db: Engine,
    principal: Principal,
    wanted: ExecutionFilter,
    *,
    sort: str = "created",
    descending: bool = True,
    page: int = 1,
    size: int = 50,
) -> ExecutionPageView:
    """A page of the executions ``principal`` may read that match ``wanted`` (filtered in SQL), newest first."""
    wanted = dataclasses.replace(wanted, where=authz.readable(principal, Execution.namespace))
    with Session(db) as session:
        rows, total = search_store.search_executions(
            session, wanted, sort=sort, descending=descending, page=page, size=size
        )
        return ExecutionPageView(results=[ExecutionView.of(r) for r in rows], total=total)


def check_may_run(db: Engine, principal: Principal, namespace: str, flow_id: str) -> None:
    """Raise unless ``principal`` may start ``namespace/flow_id`` and it exists: for an adapter that must know
    before it stores uploaded files."""
    authz.require_flow(principal, Action.RUN, namespace, flow_id)
    with Session(db) as session:
        flow_store.get_flow(session, namespace, flow_id)


def start(
    conn: Connections,
    principal: Principal,
    namespace: str,
    flow_id: str,
    *,
    inputs: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    trigger: dict[str, Any],
) -> ExecutionView:
    """Start an execution (inputs checked: ``InputsInvalid`` names each bad one); the execution as created."""
    authz.require_flow(principal, Action.RUN, namespace, flow_id)
    return commands.started_execution(
        conn, namespace, flow_id, inputs=inputs or {}, labels=labels or {}, trigger=trigger
    )


def _change(
    conn: Connections,
    principal: Principal,
    action: Action,
    execution_id: str,
    command: Callable[..., Result],
    *args: Any,
    actor: str | None,
) -> Result:
    """Decide ``action`` once, then run ``command`` (its change of state goes through the transition tables and
    writes the audit record, named after ``actor`` or the caller)."""
    with Session(conn.db) as session:
        _allowed(session, principal, action, execution_id)
    return command(conn, execution_id, *args, actor=actor or principal.name)


def kill(conn: Connections, principal: Principal, execution_id: str, *, actor: str | None = None) -> ExecutionView:
    """Kill it (and its subflows); ``Conflict`` for one that has already ended."""
    _change(conn, principal, Action.KILL, execution_id, commands.kill_execution, actor=actor)
    return read(conn.db, execution_id)


def restart(conn: Connections, principal: Principal, execution_id: str, *, actor: str | None = None) -> ExecutionView:
    """Run a FAILED or KILLED execution again from its failed tasks; ``Conflict`` for any other."""
    _change(conn, principal, Action.RESTART, execution_id, commands.restart_execution, actor=actor)
    return read(conn.db, execution_id)


def replay(
    conn: Connections, principal: Principal, execution_id: str, task_id: str, *, actor: str | None = None
) -> ExecutionView:
    """A new execution that keeps what ran before ``task_id``; ``TaskNotFound`` for a task not in the flow."""
    try:
        new_id = _change(conn, principal, Action.RESTART, execution_id, commands.replay_execution, task_id, actor=actor)
    except NotFound:
        raise
    except LookupError as exc:  # find_task's: the task is not in the flow
        raise TaskNotFound(str(exc).strip("'\"")) from None
    return read(conn.db, new_id)


def pause(conn: Connections, principal: Principal, execution_id: str, *, actor: str | None = None) -> ExecutionView:
    """Hold it: running tasks finish, no new task starts until it is resumed; ``Conflict`` once it has ended."""
    _change(conn, principal, Action.PAUSE, execution_id, commands.pause_execution, actor=actor)
    return read(conn.db, execution_id)


def resume(
    conn: Connections,
    principal: Principal,
    execution_id: str,
    inputs: dict[str, Any] | None = None,
    *,
    actor: str | None = None,
) -> ExecutionView:
    """Release a held execution and its paused tasks; ``Conflict`` when nothing is paused."""
    _change(conn, principal, Action.PAUSE, execution_id, commands.resume_execution, inputs or {}, actor=actor)
    return read(conn.db, execution_id)


def delete(db: Engine, principal: Principal, execution_ids: list[str]) -> int:
    """Delete ended executions with their task runs, logs and files; every one is checked before any is touched.

    ``Conflict`` (``ExecutionRunning``) while one of them runs. Returns how many were deleted. The files go once
    the rows are gone (a file without its execution is only wasted space; the reverse would be a broken page):
    a storage that fails then is logged, the deletion still succeeds."""
    with session_scope(db) as session:
        found = [_allowed(session, principal, Action.DELETE_EXECUTION, execution_id) for execution_id in execution_ids]
        owners = [(execution.namespace, execution.flow_id, execution.id) for execution in found]
        deleted = search_store.delete_executions(session, execution_ids)
    delete_files(owners)
    return deleted


def delete_files(owners: list[tuple[str, str, str]], storage: Storage | None = None) -> int:
    """Delete the stored files of executions (namespace, flow, id) whose rows are already deleted: the one file
    deletion path (the API's delete and the retention purge). Returns how many files went; failures are logged
    (the rows are gone: an orphaned file is only space)."""
    if not owners:
        return 0
    try:
        storage = storage or open_storage()
    except Exception:
        logger.exception("the files of %d deleted execution(s) stay: the storage cannot be opened", len(owners))
        return 0
    deleted = 0
    for namespace, flow_id, execution_id in owners:
        try:
            deleted += storage.delete_execution(namespace, flow_id, execution_id)
        except Exception:
            logger.exception("the files of deleted execution %s could not be deleted from storage", execution_id)
    return deleted


def logs(
    db: Engine,
    principal: Principal,
    execution_id: str,
    *,
    after: int = 0,
    limit: int = 1000,
    task_id: str | None = None,
    min_level: str | None = None,
) -> list[LogLineView]:
    """Log lines after position ``after`` (at most ``limit``), of one task and at or above a level if given."""
    with Session(db) as session:
        _allowed(session, principal, Action.READ, execution_id)
        lines = read_logs(session, execution_id, after=after, limit=limit, task_id=task_id, min_level=min_level)
        return [LogLineView.model_validate(line) for line in lines]


def read_attempts(db: Engine, execution_id: str) -> list[AttemptView]:
    """Every attempt of the execution's task runs, for a caller that has decided access (a share link)."""
    with Session(db) as session:
        return [AttemptView.model_validate(a) for a in store.task_run_attempts(session, execution_id)]


def attempts(db: Engine, principal: Principal, execution_id: str) -> list[AttemptView]:
    """Every attempt of the execution's task runs (a Gantt chart's spans)."""
    with Session(db) as session:
        _allowed(session, principal, Action.READ, execution_id)
    return read_attempts(db, execution_id)


def read_log_lines(db: Engine, execution_id: str, *, after: int = 0, limit: int = 1000) -> list[LogLineView]:
    """``logs`` for a caller that has decided access (a share link names its execution; an API download streams
    the lines of one it checked, a page at a time)."""
    with Session(db) as session:
        return [LogLineView.model_validate(line) for line in read_logs(session, execution_id, after=after, limit=limit)]


@dataclasses.dataclass(frozen=True)
class RanFlow:
    """An execution with the flow revision it ran: its source, every task id, the tasks paused now and the
    inputs those pauses ask for on resume."""

    execution: ExecutionView
    source: str
    task_ids: list[str]
    paused_tasks: list[str]
    resume_inputs: list[Input]


def ran_flow(db: Engine, principal: Principal, execution_id: str) -> RanFlow:
    with Session(db) as session:
        _allowed(session, principal, Action.READ, execution_id)
        execution, runs = store.execution_with_runs(session, execution_id)  # the state and its task runs agree
        where = (execution.namespace, execution.flow_id, execution.flow_revision)
        flow = flow_at(session, *where)
        source = flow_store.get_revision(session, *where).source
        view = ExecutionView.of(execution, runs)
    paused = sorted({r.task_id for r in runs if r.state == State.PAUSED.value})
    resume_inputs = [i for task_id in paused for i in getattr(find_task(flow, task_id), "on_resume", [])]
    return RanFlow(view, source, task_ids(flow), paused, resume_inputs)
