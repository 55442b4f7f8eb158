"""The worker's side of a working-directory group (engine/tasks/working_directory.py): runs one of its tasks in
the group's folder, recorded as its own task run (RUNNING on this worker, then its end state, outputs and logs).

Each task's run has its own heartbeat while it runs, so a worker that dies mid-group has its group's run and the
task's run failed by the executor's sweep like any other. Its outputs go into the worker's snapshot at once, so
the next task's expressions read them (``outputs.<task>``), as they would between separate tasks.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy import Engine

from engine.config import load_settings
from engine.core.expression_context import context_for
from engine.core.expressions import ExpressionError, render, render_text, truthy
from engine.core.snapshot import RunView, Snapshot
from engine.core.states import State
from engine.runtime import events
from engine.runtime.pulse import PULSE
from engine.store import executions as store
from engine.store import group_runs
from engine.store.database import session_scope
from engine.store.logs import write_logs
from engine.store.tables import TaskRun, utcnow
from engine.tasks import Task
from engine.tasks.base import LogLevel
from engine.tasks.context import RunContext, oversized_output

#: What runs one task (worker._execute): its end state, outputs, error, and whether a retry could help.
Execute = Callable[[Task, RunContext, Snapshot, RunView], tuple[State, dict[str, Any], str | None, bool]]


class GroupTasks:
    """``RunContext.run_child`` for a group's run: ``runner(task)`` runs ``task`` and returns its end state
    (FAILED only when it failed without ``allowFailure``; WARNING when it failed with it)."""

    def __init__(
        self,
        db: Engine,
        r: redis.Redis,
        snapshot: Snapshot,
        group: TaskRun,
        group_ctx: RunContext,
        worker: str,
        execute: Execute,
    ) -> None:
        self.db, self.r, self.snapshot, self.group, self.group_ctx = db, r, snapshot, group, group_ctx
        self.worker, self.execute = worker, execute
        with session_scope(db) as session:
            group_runs.forget_children(session, group.id)
        # The group's tasks change its runs: in a copy (what the worker keeps for the execution's next snapshot
        # holds the runs as read), which expressions walk whole.
        snapshot.runs = {run_id: v for run_id, v in snapshot.runs.items() if v.parent_id != group.id}
        snapshot.settled_outputs = None

    def __call__(self, task: Task) -> State:
        group_view = self.snapshot.runs[self.group.id]
        view = RunView(
            id=str(uuid.uuid4()),
            task_id=task.id,
            state=State.RUNNING,
            parent_id=self.group.id,
            iteration=group_view.iteration,
            value=group_view.value,
            attempts=1,
            created_at=utcnow(),
            started_at=utcnow(),
        )
        try:
            skipped = self._flag(task, "disabled", view) or (
                task.run_if is not None and not truthy(render_text(task.run_if, context_for(self.snapshot, view)))
            )
            allow_failure = self._flag(task, "allow_failure", view)
        except ExpressionError as exc:
            return self._ended(task, view, State.FAILED, self.group_ctx.mask(f"task '{task.id}': {exc}"))
        if skipped:
            return self._ended(task, view, State.SKIPPED)
        with session_scope(self.db) as session:
            row = group_runs.start_child(session, self.group, view.id, task.id, self.worker)
        self.snapshot.runs[view.id] = view
        self._announce()
        state, outputs, error = self._run(task, row, view)
        with session_scope(self.db) as session:
            store.finish_attempt(session, row, state, outputs=outputs, error=error)
        view.state, view.outputs, view.error, view.ended_at = state, outputs, error, utcnow()
        self._announce()
        if state == State.FAILED and allow_failure:
            return State.WARNING
        return state

    def _run(self, task: Task, row: TaskRun, view: RunView) -> tuple[State, dict[str, Any], str | None]:
        group_ctx = self.group_ctx
        deadline = group_ctx.deadline
        if task.timeout is not None and not isinstance(task.timeout, str):
            own = time.monotonic() + task.timeout.total_seconds()
            deadline = own if deadline is None else min(deadline, own)
        ctx = RunContext(
            task_id=task.id,
            execution_id=row.execution_id,
            folder=group_ctx.workdir,  # the one folder every task of the group shares
            storage=group_ctx.storage,
            is_killed=group_ctx.is_killed,
            deadline=deadline,
            min_level=task.log_level.value if isinstance(task.log_level, LogLevel) else "TRACE",
            secrets=group_ctx.secrets,  # one set: a secret a task sees is masked in the group's lines too
            namespace=group_ctx.namespace,
            flow_id=group_ctx.flow_id,
            file_task=task.id if row.iteration is None else f"{task.id}.{row.iteration}",
            attempt=group_ctx.attempt,  # the group's attempt: its tasks run again, with their files, when it does
            kv=group_ctx.kv,
            execution_summary=group_ctx.execution_summary,
        )

        def write(records) -> None:
            with session_scope(self.db) as session:
                write_logs(session, self.snapshot, row, records)
            with contextlib.suppress(redis.RedisError):
                events.announce(self.r, row.execution_id, "logs")

        ctx.sink = write
        with PULSE.keep(self.r, row.id, ctx.flush_logs):
            state, outputs, error, _ = self.execute(task, ctx, self.snapshot, view)
        too_big = oversized_output(outputs, load_settings().max_output_bytes)
        if too_big:
            state, outputs, error = State.FAILED, {}, f"{error}; {too_big}" if error else too_big
        if error:
            ctx.log("ERROR", error)
        ctx.flush_logs()
        outputs = ctx.mask_value(json.loads(json.dumps(outputs, default=str)))
        return state, outputs, ctx.mask(error) if error else None

    def _flag(self, task: Task, name: str, view: RunView) -> bool:
        value = getattr(task, name)
        if isinstance(value, bool):
            return value
        return truthy(render(value, context_for(self.snapshot, view)))

    def _ended(self, task: Task, view: RunView, state: State, error: str | None = None) -> State:
        with session_scope(self.db) as session:
            group_runs.add_ended_child(session, self.group, view.id, task.id, state, error)
        view.state, view.error, view.ended_at = state, error, utcnow()
        self.snapshot.runs[view.id] = view
        self._announce()
        return state

    def _announce(self) -> None:
        with contextlib.suppress(redis.RedisError):
            events.announce(self.r, self.group.execution_id, "state")
