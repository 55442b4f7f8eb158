"""Worker groups seen from the executor: a task run sent to a group no live worker serves waits in its queue, and
says so (a WARNING line in its execution's logs, and its waiting reason, ``waiting_reason``)."""

from __future__ import annotations

import time

import redis
from sqlalchemy import Engine

from engine.core.states import State
from engine.runtime.cluster import workers_serving
from engine.runtime.queue import Run, queue_name
from engine.store import executions as store
from engine.store.database import session_scope
from engine.store.logs import write_task_run_log

LIVE_WORKERS_TTL = 5.0  # seconds a count of a group's live workers is reused: the executor asks for every run it sends
_live: dict[str, tuple[float, int]] = {}  # group -> (when counted, live workers), per process


def live_workers(r: redis.Redis, group: str) -> int:
    """How many live workers serve the group's queue (their heartbeats), counted at most every LIVE_WORKERS_TTL s."""
    counted = _live.get(group)
    if counted and time.monotonic() - counted[0] < LIVE_WORKERS_TTL:
        return counted[1]
    count = workers_serving(r, queue_name(group))
    _live[group] = (time.monotonic(), count)
    return count


def no_worker_message(group: str) -> str:
    return f"waiting: no live worker serves worker group '{group}' (start one with `lanner worker --group {group}`)"


def warn_unserved(db: Engine, r: redis.Redis, runs: list[Run]) -> None:
    """A WARNING line for each run just queued for a group without a live worker (counted at most every few
    seconds, LIVE_WORKERS_TTL); the run waits in the group's queue until a worker of the group starts."""
    unserved = {run_id: group for run_id, _, group in runs if group is not None and not live_workers(r, group)}
    if not unserved:
        return
    with session_scope(db) as session:
        for run in store.task_runs_by_id(session, list(unserved)):
            write_task_run_log(session, run, "WARN", no_worker_message(unserved[run.id]))


def waiting_reason(r: redis.Redis, state: str, worker_group: str | None, namespace: str) -> str | None:
    """Why a task run has not started yet, or None: held back for a slot of its namespace (a worker run is CREATED
    only then), or queued for a group no live worker serves."""
    if state == State.CREATED.value:
        return f"waiting for a slot: namespace '{namespace}' has as many task runs in flight as it may"
    if state == State.QUEUED.value and worker_group and not live_workers(r, worker_group):
        return no_worker_message(worker_group)
    return None
