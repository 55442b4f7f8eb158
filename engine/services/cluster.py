"""The state of the installation for its administrators: the processes alive (engine/runtime/cluster.py), the
task runs each worker holds, the queue waiting for workers, and whether the database and Redis answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import redis
from sqlalchemy import Engine

from engine.config import load_settings
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.runtime import cluster
from engine.store import executions as store
from engine.store.database import session_scope, unreachable


@dataclass(frozen=True)
class HeldRun:
    """A task run a worker runs now."""

    task_run_id: str
    execution_id: str
    namespace: str
    flow_id: str
    task_id: str


@dataclass(frozen=True)
class ProcessView:
    kind: str
    name: str
    host: str
    pid: int
    version: str
    state: str
    started_at: dt.datetime
    last_beat: dt.datetime
    metrics_url: str | None
    task_runs: tuple[HeldRun, ...] = ()


@dataclass(frozen=True)
class ClusterView:
    """What the Cluster page and ``GET /api/v1/cluster`` show."""

    processes: list[ProcessView] = field(default_factory=list)
    queue_depth: int | None = None  # None: Redis did not answer
    database_error: str | None = None  # None: the database answered
    redis_error: str | None = None  # None: Redis answered
    heartbeat_timeout: float = 10.0  # a process silent this long has left the list
    metrics_url: str = ""  # the API's own /metrics


def cluster_view(principal: Principal, db: Engine, r: redis.Redis) -> ClusterView:
    """The installation's processes and health; administrators only (checked before anything is read)."""
    authz.require(principal, Action.READ_CLUSTER, None)
    settings = load_settings()
    database_error = unreachable(db)
    try:
        records, depth, redis_error = cluster.alive(r), cluster.queue_depth(r), None
    except redis.RedisError as exc:
        records, depth, redis_error = [], None, str(exc) or type(exc).__name__
    held = _held_runs(db, [run for record in records for run in record.task_runs]) if database_error is None else {}
    processes = [
        ProcessView(
            kind=record.kind.value,
            name=record.name,
            host=record.host,
            pid=record.pid,
            version=record.version,
            state=record.state,
            started_at=record.started_at,
            last_beat=record.last_beat,
            metrics_url=record.metrics_url,
            task_runs=tuple(held[run] for run in record.task_runs if run in held),
        )
        for record in records
    ]
    return ClusterView(
        processes=processes,
        queue_depth=depth,
        database_error=database_error,
        redis_error=redis_error,
        heartbeat_timeout=settings.heartbeat_timeout,
        metrics_url=f"{settings.public_url}/metrics",
    )


def _held_runs(db: Engine, run_ids: list[str]) -> dict[str, HeldRun]:
    if not run_ids:
        return {}
    with session_scope(db) as session:
        runs = store.task_runs_by_id(session, run_ids)
    return {run.id: HeldRun(run.id, run.execution_id, run.namespace, run.flow_id, run.task_id) for run in runs}
