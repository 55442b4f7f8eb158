"""Worker groups seen from the executor: a task run sent to a group no live worker serves waits in its queue, and
says so (a WARNING line in its execution's logs, and its waiting reason, ``waiting_reason``)."""

from __future__ import annotations

import redis
from sqlalchemy import Engine

from engine.core.states import State
from engine.runtime.queue import Run, live_workers
from engine.store import executions as store
from engine.store.database import session_scope
from engine.store.logs import write_task_run_log


def no_worker_message(group: str) -> str:
    return f"waiting: no live worker serves worker group '{group}' (start one with `lanner worker --group {group}`)"


def warn_unserved(db: Engine, r: redis.Redis, runs: list[Run]) -> None:
    """A WARNING line for each run just queued for a group without a live worker (counted at most every few
    seconds, queue.LIVE_WORKERS_TTL); the run waits in the group's queue until a worker of the group starts."""
    unserved = {run_id: group for run_id, _, group in runs if group is not None and not live_workers(r, group)}
    if not unserved:
        return
    with session_scope(db) as session:
        for run in store.task_runs_by_id(session, list(unserved)):
            write_task_run_log(session, run, "WARN", no_worker_message(unserved[run.id]))


def waiting_reason(r: redis.Redis, run, in_flight_bound: int | None = None) -> str | None:
    """Why a worker run has not started yet, or None: held back for a slot of its namespace (CREATED), or queued
    for a group no live worker serves."""
    if run.kind != "worker":
        return None
    if run.state == State.CREATED.value:
        bound = f" ({in_flight_bound})" if in_flight_bound else ""
        return f"waiting for a slot: namespace '{run.namespace}' has its most task runs in flight{bound}"
    if run.state == State.QUEUED.value and run.worker_group and not live_workers(r, run.worker_group):
        return no_worker_message(run.worker_group)
    return None
