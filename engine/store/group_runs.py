"""The task runs of a working-directory group's tasks, which the worker running the group records itself
(engine/runtime/working_directory.py): the executor never queues them, so they are written here directly."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from engine.core.states import State
from engine.store.executions import delete_task_runs
from engine.store.tables import TaskRun, TaskRunAttempt, utcnow


def forget_children(session: Session, group_run_id: str) -> None:
    """Delete the task runs an earlier attempt of the group recorded: the new attempt runs them all again."""
    children = session.exec(select(TaskRun.id).where(col(TaskRun.parent_task_run_id) == group_run_id))
    delete_task_runs(session, list(children))


def _child(group: TaskRun, run_id: str, task_id: str, state: State, now: dt.datetime, **fields: Any) -> TaskRun:
    """A task run of ``task_id`` under the group's run (same execution, loop value and iteration)."""
    return TaskRun(
        id=run_id,
        execution_id=group.execution_id,
        namespace=group.namespace,
        flow_id=group.flow_id,
        task_id=task_id,
        parent_task_run_id=group.id,
        value=group.value,
        iteration=group.iteration,
        state=state.value,
        kind="worker",
        created_at=now,
        **fields,
    )


def start_child(session: Session, group: TaskRun, run_id: str, task_id: str, worker: str, **fields: Any) -> TaskRun:
    """A RUNNING task run (attempt 1, on ``worker``) of ``task_id`` under the group's run."""
    now = utcnow()
    run = _child(group, run_id, task_id, State.RUNNING, now, attempt_count=1, started_at=now, **fields)
    session.add(run)
    session.flush()
    session.add(TaskRunAttempt(task_run_id=run.id, attempt=1, state=State.RUNNING.value, worker=worker, started_at=now))
    session.flush()
    session.refresh(run)
    return run


def add_ended_child(
    session: Session, group: TaskRun, run_id: str, task_id: str, state: State, error: str | None = None
) -> None:
    """A task of the group that ended before running (skipped by ``disabled``/``runIf``, or failed rendering them)."""
    now = utcnow()
    session.add(_child(group, run_id, task_id, state, now, error=error, ended_at=now, duration_ms=0))
