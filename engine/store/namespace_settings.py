"""A namespace's resources as stored (one row per namespace), and the counts that enforce them: executions running,
task runs in flight (queued for a worker or running), task runs held back (engine/runtime/fair_share.py).

A task run held back by its namespace's fair share is a worker run in state CREATED: the state machine never leaves
a worker run CREATED (it queues it at once), so the state alone tells a held run, and the executor's recovery
sweep (which re-enqueues QUEUED runs whose job is lost) never mistakes one for a lost job.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, ScalarSelect, bindparam, func, text, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from engine.core.states import ACTIVE, State
from engine.store.database import take_sqlite_write_lock
from engine.store.tables import NEXT_RUN_VERSION, Execution, NamespaceSettings, TaskRun, utcnow

IN_FLIGHT = (State.QUEUED.value, State.RUNNING.value)


def settings_row(session: Session, namespace: str) -> NamespaceSettings | None:
    """The settings of this namespace itself (not inherited)."""
    return session.get(NamespaceSettings, namespace)


def save_settings(session: Session, namespace: str, values: dict[str, Any], actor: str | None) -> NamespaceSettings:
    row = session.get(NamespaceSettings, namespace) or NamespaceSettings(namespace=namespace)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by = utcnow(), actor
    session.add(row)
    return row


# Statements the executor runs on every advance, built once (building one costs more than running it on SQLite).
_SETTINGS, _RUNS = NamespaceSettings.__table__, TaskRun.__table__
_IN_FLIGHT = (
    core_select(func.count())
    .select_from(_RUNS)
    .where(_RUNS.c.namespace == bindparam("namespace"), _RUNS.c.state.in_(IN_FLIGHT), _RUNS.c.kind == "worker")
)
_LIMITS = core_select(_SETTINGS.c.max_running_executions, _SETTINGS.c.max_running_task_runs).where(
    _SETTINGS.c.namespace == bindparam("namespace")
)
# Both in one statement: the fair share reads them on every advance that queues a run.
_IN_FLIGHT_AND_LIMIT = core_select(
    _IN_FLIGHT.scalar_subquery(),
    core_select(_SETTINGS.c.max_running_task_runs)
    .where(_SETTINGS.c.namespace == bindparam("namespace"))
    .scalar_subquery(),
)


def nearest_worker_group(lineage: BindParameter) -> ScalarSelect:
    """The worker group set on the nearest namespace of ``lineage`` (an expanding parameter: a namespace and those
    above it) that sets one, as a scalar subquery: by primary key, one lookup per namespace. The nearest is the
    one with the longest name (engine/workspace/resources.py)."""
    return (
        core_select(_SETTINGS.c.worker_group)
        .where(_SETTINGS.c.namespace.in_(lineage), _SETTINGS.c.worker_group.is_not(None))
        .order_by(func.length(_SETTINGS.c.namespace).desc())
        .limit(1)
        .scalar_subquery()
    )


_NEAREST_WORKER_GROUP = core_select(nearest_worker_group(bindparam("lineage", expanding=True)))


def own_limits(session: Session, namespace: str) -> tuple[int | None, int | None]:
    """(max running executions, max running task runs) set on the namespace itself, None where it sets none."""
    row = session.connection().execute(_LIMITS, {"namespace": namespace}).first()
    return (row[0], row[1]) if row else (None, None)


def inherited_worker_group(session: Session, lineage: list[str]) -> str | None:
    """The worker group set on the nearest namespace of ``lineage`` (a namespace and those above it) that sets one."""
    return session.connection().execute(_NEAREST_WORKER_GROUP, {"lineage": lineage}).scalar()


def lock_namespace(session: Session, namespace: str, *, wrote: bool = False) -> None:
    """Serialise, until the transaction ends, whoever counts and changes the namespace's task runs in flight.
    PostgreSQL: a transaction advisory lock on the name. SQLite: the database's one write lock, taken now (a
    transaction that read first could not write once another had); ``wrote``: the transaction already holds it,
    having written (SQLite keeps its write lock from a transaction's first write to its end)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"lanner-ns:{namespace}"})
    elif not wrote:
        take_sqlite_write_lock(session)


def task_runs_in_flight(session: Session, namespace: str) -> tuple[int, int | None]:
    """Worker runs of the namespace queued for a worker or running, with the most it sets for itself (None: it
    sets none), read together."""
    in_flight, own_limit = session.connection().execute(_IN_FLIGHT_AND_LIMIT, {"namespace": namespace}).one()
    return in_flight, own_limit


def hold_runs(session: Session, run_ids: list[str]) -> None:
    """Queued runs no worker has seen yet go back to waiting for a slot of their namespace."""
    session.execute(
        update(TaskRun)
        .where(col(TaskRun.id).in_(run_ids), TaskRun.state == State.QUEUED.value)
        .values(state=State.CREATED.value, **NEXT_RUN_VERSION)
    )


def release_held(session: Session, namespace: str, count: int) -> list[tuple[str, str, int, str | None]]:
    """Queue the ``count`` runs of the namespace held longest: (run id, execution id, attempt, worker group)."""
    oldest = list(
        session.exec(
            select(TaskRun.id)
            .where(TaskRun.namespace == namespace, TaskRun.state == State.CREATED.value, TaskRun.kind == "worker")
            .order_by(col(TaskRun.created_at))
            .limit(count)
        )
    )
    if not oldest:
        return []
    released = session.execute(
        update(TaskRun)
        .where(col(TaskRun.id).in_(oldest), TaskRun.state == State.CREATED.value)  # a kill may have come first
        .values(state=State.QUEUED.value, **NEXT_RUN_VERSION)
        .returning(TaskRun.id, TaskRun.execution_id, TaskRun.attempt_count, TaskRun.worker_group)
    ).all()
    return [(run_id, execution_id, attempts + 1, group) for run_id, execution_id, attempts, group in released]


def namespaces_holding(session: Session) -> list[str]:
    """Namespaces with task runs held back for a slot."""
    statement = select(TaskRun.namespace).where(TaskRun.state == State.CREATED.value, TaskRun.kind == "worker")
    return list(session.exec(statement.distinct()))


def running_executions(session: Session, namespace: str, *, besides: str) -> int:
    """Executions of the namespace that hold a slot of its limit (running, paused, being killed), tests aside."""
    return session.exec(
        select(func.count())
        .select_from(Execution)
        .where(
            Execution.namespace == namespace,
            col(Execution.state).in_([s.value for s in ACTIVE]),
            Execution.id != besides,
            col(Execution.test).is_(False),
        )
    ).one()


def namespaces_of(session: Session, execution_ids: list[str]) -> dict[str, str]:
    """The namespace of each of these executions that exists."""
    statement = select(Execution.id, Execution.namespace).where(col(Execution.id).in_(execution_ids))
    return dict(session.exec(statement).all())


def oldest_queued_in_namespace(session: Session, namespace: str) -> str | None:
    """The execution of the namespace waiting longest for a slot."""
    return session.exec(
        select(Execution.id)
        .where(Execution.namespace == namespace, Execution.state == State.QUEUED.value)
        .order_by(col(Execution.created_at))
        .limit(1)
    ).first()
