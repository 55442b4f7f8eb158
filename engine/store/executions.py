"""Executions, task runs and their attempts in the database: the rows, and the compare-and-set changes that
keep two processes from doing one thing twice.

Deciding what they hold (checking inputs, building and saving a snapshot for ``engine.core.progress``) is done above
the store, in ``engine/services/execution_start.py`` and ``engine/services/snapshots.py``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    JSON,
    Row,
    String,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from engine.core.errors import Conflict, NotFound
from engine.core.states import ACTIVE, SETTLED, TASK_RUN_TRANSITIONS, TERMINAL, State, check_transition
from engine.store.namespace_settings import nearest_worker_group
from engine.store.tables import NEXT_RUN_VERSION, Execution, TaskRun, TaskRunAttempt, utcnow


class ExecutionNotFound(NotFound):
    pass


class ExecutionConflict(Conflict):
    """The execution is not in a state that allows what was asked (e.g. killing a finished one)."""


class ExecutionChanged(RuntimeError):
    """The execution's state changed between reading its snapshot and saving the advance: decide again."""


def add_execution(session: Session, execution: Execution) -> Execution:
    """Write ``execution`` now, in the session's transaction, by one Core insert of its columns: the ORM's unit of
    work was a quarter of a trigger's CPU. The object stays outside the session (nobody changes it afterwards;
    what reads it again in the transaction reads the row)."""
    session.flush()  # what the session holds goes first, as before: a flush wrote it with the execution
    session.connection().execute(_INSERT_EXECUTION, {name: getattr(execution, name) for name in _EXECUTION_COLUMNS})
    return execution


def get_execution(session: Session, execution_id: str) -> Execution:
    execution = session.get(Execution, execution_id)
    if execution is None:
        raise ExecutionNotFound(f"no execution {execution_id}")
    return execution


# The tables, for the statements the executor and the workers run on every step (plain rows, no ORM objects).
_EXECUTIONS, _RUNS, _ATTEMPTS = Execution.__table__, TaskRun.__table__, TaskRunAttempt.__table__
_EXECUTION_ROW = core_select(_EXECUTIONS).where(_EXECUTIONS.c.id == bindparam("execution_id"))
_INSERT_EXECUTION, _EXECUTION_COLUMNS = _EXECUTIONS.insert(), tuple(column.key for column in _EXECUTIONS.columns)


def execution_row(session: Session, execution_id: str) -> Row:
    """The execution as a plain row (columns by attribute), without an ORM object: what every advance and every task
    run reads first."""
    row = session.connection().execute(_EXECUTION_ROW, {"execution_id": execution_id}).first()
    if row is None:
        raise ExecutionNotFound(f"no execution {execution_id}")
    return row


def find_execution(session: Session, execution_id: str) -> Execution | None:
    return session.get(Execution, execution_id)


def save_execution(session: Session, execution: Execution) -> None:
    """Keep the changes made to ``execution`` (written when the transaction commits)."""
    session.add(execution)


def task_runs(session: Session, execution_id: str) -> list[TaskRun]:
    statement = select(TaskRun).where(TaskRun.execution_id == execution_id).order_by(col(TaskRun.created_at))
    return list(session.exec(statement))


_RUN_ROWS = core_select(_RUNS).where(_RUNS.c.execution_id == bindparam("execution_id"))


def task_run_rows(session: Session, execution_id: str) -> list[Row]:
    """The execution's task runs as plain rows (columns by attribute), oldest first: what the executor and the
    workers read on every step, without building an ORM object per run."""
    statement = _RUN_ROWS.order_by(_RUNS.c.created_at)
    return list(session.connection().execute(statement, {"execution_id": execution_id}))


# Written into the statements (no parameters to expand on each call); by equality, so each is a range of the index.
_SETTLED_IN = [literal_column(f"'{state.value}'") for state in SETTLED]
_UNSETTLED_IN = [literal_column(f"'{state.value}'") for state in State if state not in SETTLED]
_NEAREST_GROUP = nearest_worker_group(bindparam("lineage", expanding=True))
# "<run id>:<version>": one string per run to compare, which costs a tenth of a (run id, version) pair to send.
_VERSIONED_ID = _RUNS.c.id + literal_column("':'", String) + cast(_RUNS.c.version, String)
# Runs found by id, then tested for settled on their row, never through an index: given the index of states,
# SQLite walked every settled run of every execution to find the few ids asked for (1.3 ms a read at 8,000 runs
# in the table, growing with the history; 0.03 ms by primary key).
_SETTLED_ROW = (_RUNS.c.state + literal_column("''", String)).in_(_SETTLED_IN)


def _among(column: Any, name: str, dialect: str) -> Any:
    """``column`` is one of the strings of the list parameter ``name``, sent as one value however long the list:
    an expanding IN renders a placeholder per element on every call, which took a tenth of the CPU of a task run
    of a foreach over 100 (the runs in flight, each named twice). PostgreSQL takes an array, SQLite a JSON text."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(String)))
    if dialect == "sqlite":
        return column.in_(core_select(func.json_each(bindparam(name, type_=JSON)).table_valued("value").c.value))
    return column.in_(bindparam(name, expanding=True))


# The runs of an execution that may have changed since its last snapshot, each part found by the index of an
# execution's runs by state and creation, without reading the others' rows: those not settled, but for those still
# at the version the snapshot holds; those settled since among the runs that snapshot saw not settled; those settled
# and created after the newest run it saw (by another process: a worker sees runs the executor created and another
# worker ran; the runs created with that one, in the same commit, it saw too). A run may come twice. With them one
# row that is no run: the execution's count of runs created, read in the same statement (so as of the same moment, on
# every database) instead of in one more, and, for an advance, which may create runs, the worker group its
# namespace inherits (by primary key: one lookup per level).
@functools.cache
def _changed_runs(grouped: bool, dialect: str) -> Any:
    execution = [_EXECUTIONS.c.runs_created.label("runs_created_now")]
    if grouped:
        execution.append(_NEAREST_GROUP.label("namespace_worker_group"))
    changed_run = core_select(_RUNS, *(null().label(column.name) for column in execution))
    # First: PostgreSQL types the columns of a UNION pair by pair from the left (NULL with NULL would be text), and
    # SQLAlchemy reads every row with the first part's types (type_coerce: typed here, a plain NULL in the SQL).
    no_run = (type_coerce(null(), column.type).label(column.name) for column in _RUNS.c)
    return union_all(
        core_select(*no_run, *execution).where(_EXECUTIONS.c.id == bindparam("execution_id")),
        changed_run.where(
            _RUNS.c.execution_id == bindparam("execution_id"),
            _RUNS.c.state.in_(_UNSETTLED_IN),
            ~_among(_VERSIONED_ID, "known", dialect),
        ),
        changed_run.where(_among(_RUNS.c.id, "ids", dialect), _SETTLED_ROW),
        changed_run.where(
            _RUNS.c.execution_id == bindparam("execution_id"),
            _RUNS.c.state.in_(_SETTLED_IN),
            _RUNS.c.created_at > bindparam("since"),
        ),
    )


def changed_task_runs(
    session: Session,
    execution_id: str,
    maybe_settled: list[str],
    since: dt.datetime,
    lineage: list[str] | None = None,
    known: list[tuple[str, int]] | None = None,
) -> tuple[list[Row], int, str | None]:
    """The rows of the execution's runs that have not settled (but for those still at the version ``known``
    gives them: (run id, version) pairs), of those of ``maybe_settled`` that have, and of those settled (SUCCESS,
    WARNING, SKIPPED: states no transition leaves) and created after ``since``, oldest first; with the execution's
    count of runs created, read with the last of them (a run created meanwhile is counted, never missed), and, given
    its namespace's ``lineage`` (nearest first), the worker group of the nearest that sets one (else None). What a
    snapshot reads again when it holds the others from an earlier one (engine/services/snapshots.py)."""
    connection = session.connection()
    statement = _changed_runs(lineage is not None, connection.dialect.name)
    values = {
        "execution_id": execution_id,
        "ids": maybe_settled,
        "since": since,
        "lineage": lineage,
        "known": [f"{run_id}:{version}" for run_id, version in known or ()],
    }
    found: dict[str, Row] = {}
    execution: Row | None = None
    for row in connection.execute(statement, values):
        if row.id is None:
            execution = row
        else:
            found[row.id] = row
    if execution is None:
        raise ExecutionNotFound(f"no execution {execution_id}")
    group = execution.namespace_worker_group if lineage is not None else None
    return sorted(found.values(), key=lambda row: row.created_at), execution.runs_created_now, group


_EXECUTION_VERSION = core_select(_EXECUTIONS.c.state, _EXECUTIONS.c.updated_at).where(
    _EXECUTIONS.c.id == bindparam("execution_id")
)
_RUNS_OF = core_select(_RUNS).where(_RUNS.c.execution_id == bindparam("execution_id")).order_by(_RUNS.c.created_at)
_READS_BEFORE_GIVING_UP = 5  # an execution changing between every pair of reads: its runs are at most a step ahead


def execution_with_runs(session: Session, execution_id: str) -> tuple[SimpleNamespace, list[SimpleNamespace]]:
    """The execution and its task runs as of one instant. Plain values with the columns as attributes (what pages
    and API answers are built from), no ORM object per run.

    The execution is read, then its runs, then the execution's state and last change again: when they moved in
    between, all is read again. Otherwise a run that ends between the two reads could show an ended execution
    above running nodes, after which a page that stops following once the execution ended keeps the stale nodes
    for good. (One join would repeat, and decode, the execution's JSON columns once per task run.)
    """
    connection = session.connection()
    key = {"execution_id": execution_id}
    for _ in range(_READS_BEFORE_GIVING_UP):
        execution = connection.execute(_EXECUTION_ROW, key).first()
        if execution is None:
            raise ExecutionNotFound(f"no execution {execution_id}")
        runs = list(connection.execute(_RUNS_OF, key))
        if connection.execute(_EXECUTION_VERSION, key).first() == (execution.state, execution.updated_at):
            break
    return SimpleNamespace(**execution._mapping), [SimpleNamespace(**run._mapping) for run in runs]


def task_run_attempts(session: Session, execution_id: str) -> list[TaskRunAttempt]:
    """Every attempt of the execution's task runs, in no particular order."""
    statement = (
        select(TaskRunAttempt)
        .join(TaskRun, col(TaskRun.id) == col(TaskRunAttempt.task_run_id))
        .where(TaskRun.execution_id == execution_id)
    )
    return list(session.exec(statement))


def children_of(session: Session, execution_id: str) -> list[str]:
    """Ids of the executions started as subflows of ``execution_id``."""
    return list(session.exec(select(Execution.id).where(Execution.parent_execution_id == execution_id)))


def _count_of_flow(session: Session, namespace: str, flow_id: str, states: Iterable[State], besides: str = "") -> int:
    """Executions of the flow in ``states``, ``besides`` and tests of one task aside."""
    return session.exec(
        select(func.count())
        .select_from(Execution)
        .where(
            Execution.namespace == namespace,
            Execution.flow_id == flow_id,
            col(Execution.state).in_([s.value for s in states]),
            Execution.id != besides,
            col(Execution.test).is_(False),  # a test of one task takes no slot of its flow (nor waits for one)
        )
    ).one()


def count_active(session: Session, namespace: str, flow_id: str, *, besides: str) -> int:
    """Executions of the flow that hold a concurrency slot (running, paused, being killed)."""
    return _count_of_flow(session, namespace, flow_id, ACTIVE, besides)


def count_waiting(session: Session, namespace: str, flow_id: str) -> int:
    """Executions of the flow created or queued but not yet running (a realtime trigger's backlog)."""
    return _count_of_flow(session, namespace, flow_id, (State.CREATED, State.QUEUED))


def oldest_queued(session: Session, namespace: str, flow_id: str) -> str | None:
    """The execution of the flow waiting longest for a concurrency slot."""
    return session.exec(
        select(Execution.id)
        .where(Execution.namespace == namespace, Execution.flow_id == flow_id, Execution.state == State.QUEUED.value)
        .order_by(col(Execution.created_at))
        .limit(1)
    ).first()


def stale_executions(session: Session, older_than: dt.datetime, limit: int = 1000) -> list[str]:
    """Executions not ended and not changed since ``older_than``."""
    return list(
        session.exec(
            select(Execution.id)
            .where(col(Execution.state).not_in([s.value for s in TERMINAL]), col(Execution.updated_at) < older_than)
            .limit(limit)
        ).all()
    )


def change_execution_if(session: Session, execution_id: str, expected: State, values: dict[str, Any]) -> bool:
    """Set ``values`` on the execution only if it is still in state ``expected`` (compare-and-set). A Core
    statement: the ORM's version looked for the row among the session's objects to change them too, a quarter of
    an advance's time; an Execution object read before in this session keeps the values it had."""
    changed = (
        session.connection()
        .execute(
            update(_EXECUTIONS)
            .where(_EXECUTIONS.c.id == execution_id, _EXECUTIONS.c.state == expected.value)
            .values(**values)
        )
        .rowcount
    )
    return bool(changed)


def task_runs_by_id(session: Session, run_ids: list[str]) -> list[TaskRun]:
    """These task runs (those a worker holds, those just sent to a group); missing ids are left out."""
    return list(session.exec(select(TaskRun).where(col(TaskRun.id).in_(run_ids))))


def add_task_run(session: Session, run: TaskRun) -> None:
    session.add(run)


def add_task_runs(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new task runs, each given every column, in one executemany (no ORM object per run)."""
    if rows:
        session.connection().execute(insert(_RUNS), rows)


def change_task_run(session: Session, run_id: str, values: dict[str, Any]) -> None:
    session.execute(update(TaskRun).where(col(TaskRun.id) == run_id).values(**values, **NEXT_RUN_VERSION))


def change_task_runs_each(session: Session, changes: dict[str, dict[str, Any]]) -> None:
    """Set each run's own values (run id -> values): one executemany per set of columns, not one statement per run.
    No run is held by the session (the executor reads plain rows), so none is brought up to date."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for run_id, values in changes.items():
        # A parameter may not share its column's name in SET: each value goes as "new_<column>".
        by_columns.setdefault(tuple(sorted(values)), []).append(
            {"run_id": run_id, **{f"new_{name}": value for name, value in values.items()}}
        )
    table = _RUNS
    for columns, rows in by_columns.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("run_id"))
            .values({**{name: bindparam(f"new_{name}") for name in columns}, **NEXT_RUN_VERSION})
        )
        session.connection().execute(statement, rows)


def delete_task_runs(session: Session, run_ids: list[str]) -> None:
    """Delete these task runs with their attempts (a restart runs them again from scratch). Their executions' runs
    generation goes up: a snapshot kept from before is read again whole (engine/services/snapshots.py)."""
    if run_ids:
        owners = core_select(_RUNS.c.execution_id).where(_RUNS.c.id.in_(run_ids)).distinct()
        session.execute(
            update(Execution).where(col(Execution.id).in_(owners)).values(runs_generation=Execution.runs_generation + 1)
        )
        session.execute(delete(TaskRunAttempt).where(col(TaskRunAttempt.task_run_id).in_(run_ids)))
        session.execute(delete(TaskRun).where(col(TaskRun.id).in_(run_ids)))


def change_task_runs(session: Session, run_ids: Iterable[str], values: dict[str, Any]) -> None:
    session.execute(update(TaskRun).where(col(TaskRun.id).in_(list(run_ids))).values(**values, **NEXT_RUN_VERSION))


def flush(session: Session) -> None:
    """Send what the session holds to the database now (ids, constraints), inside the transaction."""
    session.flush()


def running_worker_runs(session: Session, started_before: dt.datetime) -> list[tuple[str, str, int]]:
    """(run id, execution id, attempt) of worker runs RUNNING since before ``started_before``."""
    return list(
        session.exec(
            select(TaskRun.id, TaskRun.execution_id, TaskRun.attempt_count).where(
                TaskRun.state == State.RUNNING.value,
                TaskRun.kind == "worker",
                col(TaskRun.started_at) < started_before,
            )
        ).all()
    )


def queued_worker_runs(session: Session, limit: int = 5000) -> list[tuple[str, int, str | None]]:
    """(run id, attempts so far, worker group) of worker runs waiting in their group's queue."""
    return list(
        session.exec(
            select(TaskRun.id, TaskRun.attempt_count, TaskRun.worker_group)
            .where(TaskRun.state == State.QUEUED.value, TaskRun.kind == "worker")
            .limit(limit)
        ).all()
    )


# The compare-and-sets of claim_attempt and fail_lost_attempt write fixed transitions of the table: checked once, at
# import, so a change to the table cannot drift from them.
check_transition(TASK_RUN_TRANSITIONS, State.QUEUED, State.RUNNING, "a claimed task run")
check_transition(TASK_RUN_TRANSITIONS, State.RUNNING, State.FAILED, "a task run whose worker vanished")
check_transition(TASK_RUN_TRANSITIONS, State.RUNNING, State.QUEUED, "a task run its stopping worker hands back")


# A worker's statements, built once: an attempt's claim and end, twice per task, were mostly building them.
# (Their parameters are named b_*: SQLAlchemy keeps the columns' own names for itself.)
_WAITING = (_RUNS.c.id == bindparam("b_run_id"), _RUNS.c.state == State.QUEUED.value)
_CLAIM_NEXT = (
    update(_RUNS)
    .where(*_WAITING)
    .values(
        state=State.RUNNING.value,
        attempt_count=_RUNS.c.attempt_count + 1,
        started_at=bindparam("b_now", type_=_RUNS.c.started_at.type),
        retryable=True,
        **NEXT_RUN_VERSION,
    )
    .returning(*_RUNS.c)
)
_CLAIM_ATTEMPT = _CLAIM_NEXT.where(_RUNS.c.attempt_count == bindparam("b_before"))
_START_ATTEMPT = insert(_ATTEMPTS).values(
    task_run_id=bindparam("b_run_id"),
    attempt=bindparam("b_attempt"),
    state=State.RUNNING.value,
    worker=bindparam("b_worker"),
    started_at=bindparam("b_now", type_=_ATTEMPTS.c.started_at.type),
)
_FINISH_RUN = (
    update(_RUNS)
    .where(
        _RUNS.c.id == bindparam("b_run_id"),
        _RUNS.c.state == State.RUNNING.value,
        _RUNS.c.attempt_count == bindparam("b_attempt"),
    )
    .values(
        state=bindparam("b_new_state"),
        outputs=bindparam("b_outputs", type_=_RUNS.c.outputs.type),
        error=bindparam("b_error", type_=_RUNS.c.error.type),
        ended_at=bindparam("b_now", type_=_RUNS.c.ended_at.type),
        duration_ms=bindparam("b_duration", type_=_RUNS.c.duration_ms.type),
        retryable=bindparam("b_retryable", type_=_RUNS.c.retryable.type),
        metrics=bindparam("b_metrics", type_=_RUNS.c.metrics.type),
        **NEXT_RUN_VERSION,
    )
)
_FINISH_ATTEMPT = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.task_run_id == bindparam("b_run_id"), _ATTEMPTS.c.attempt == bindparam("b_attempt"))
    .values(
        state=bindparam("b_new_state"),
        error=bindparam("b_error", type_=_ATTEMPTS.c.error.type),
        ended_at=bindparam("b_now", type_=_ATTEMPTS.c.ended_at.type),
        metrics=bindparam("b_metrics", type_=_ATTEMPTS.c.metrics.type),
    )
)


def claim_attempt(session: Session, task_run_id: str, worker: str, attempt: int | None = None) -> Row | None:
    """Start attempt ``attempt`` (None: the next one) of a queued run, as one compare-and-set: the single
    guard against running an attempt twice. None when the run does not wait for that attempt (a duplicate
    job, a job for an attempt already claimed, or a killed run). The run comes back as a plain row (columns by
    attribute): a worker claims once per task run, so no ORM object is built for it."""
    now = utcnow()
    connection = session.connection()
    claim = _CLAIM_NEXT if attempt is None else _CLAIM_ATTEMPT
    run = connection.execute(claim, {"b_run_id": task_run_id, "b_before": (attempt or 1) - 1, "b_now": now}).first()
    if run is None:
        return None
    connection.execute(
        _START_ATTEMPT, {"b_run_id": run.id, "b_attempt": run.attempt_count, "b_worker": worker, "b_now": now}
    )
    return run


def finish_attempt(
    session: Session,
    run: Any,
    state: State,
    *,
    outputs: dict[str, Any],
    error: str | None,
    retryable: bool = True,
    metrics: list[dict[str, Any]] | None = None,
) -> bool:
    """Record the end of the running attempt of ``run`` (a row or a TaskRun); False if the run was no longer
    RUNNING (lost, then retried). ``retryable`` False: the attempt failed for a reason no retry cures, so the retry
    policy does not apply. ``metrics``: what the attempt reported (engine/tasks/metrics.py), kept on the attempt
    and on the run."""
    check_transition(TASK_RUN_TRANSITIONS, State.RUNNING, state, f"task run {run.task_id}")
    now = utcnow()
    duration = int((now - run.started_at).total_seconds() * 1000) if run.started_at else None
    values = {
        "b_run_id": run.id,
        "b_attempt": run.attempt_count,
        "b_now": now,
        "b_new_state": state.value,
        "b_error": error,
    }
    connection = session.connection()
    done = connection.execute(
        _FINISH_RUN,
        {
            **values,
            "b_outputs": outputs,
            "b_duration": duration,
            "b_retryable": retryable,
            "b_metrics": metrics or None,
        },
    ).rowcount
    connection.execute(_FINISH_ATTEMPT, {**values, "b_metrics": metrics or None})
    return bool(done)


def _running_on_a_worker_at(run_id: str, attempt: int) -> tuple:
    """The run still at this attempt on a worker: what a sweep or a hand-back may change, and nothing newer."""
    return (
        col(TaskRun.id) == run_id,
        col(TaskRun.state) == State.RUNNING.value,
        col(TaskRun.attempt_count) == attempt,
        col(TaskRun.kind) == "worker",
    )


def fail_lost_attempt(session: Session, run_id: str, attempt: int, reason: str) -> bool:
    """A worker vanished mid-attempt: the attempt fails, and the executor applies the retry policy."""
    now = utcnow()
    done = session.execute(
        update(TaskRun)
        .where(*_running_on_a_worker_at(run_id, attempt))
        .values(state=State.FAILED.value, error=reason, ended_at=now, **NEXT_RUN_VERSION)
    ).rowcount
    session.execute(
        update(TaskRunAttempt)
        .where(col(TaskRunAttempt.task_run_id) == run_id, col(TaskRunAttempt.attempt) == attempt)
        .values(state=State.FAILED.value, error=reason, ended_at=now)
    )
    return bool(done)


def hand_back_attempt(session: Session, run_id: str, attempt: int) -> bool:
    """A worker told to stop could not finish attempt ``attempt`` within its grace period: the run waits in the
    queue again as if the attempt had never started (its attempt row goes, the attempt count steps back), so
    another worker runs it and the retry policy counts nothing. False when the run is no longer at that attempt."""
    done = session.execute(
        update(TaskRun)
        .where(*_running_on_a_worker_at(run_id, attempt))
        .values(state=State.QUEUED.value, attempt_count=attempt - 1, started_at=None, **NEXT_RUN_VERSION)
    ).rowcount
    if done:
        session.execute(
            delete(TaskRunAttempt).where(
                col(TaskRunAttempt.task_run_id) == run_id, col(TaskRunAttempt.attempt) == attempt
            )
        )
    return bool(done)


def attempts_of(session: Session, run_ids: Iterable[str]) -> list[TaskRunAttempt]:
    """Every attempt of these task runs (for timelines)."""
    return list(session.exec(select(TaskRunAttempt).where(col(TaskRunAttempt.task_run_id).in_(list(run_ids)))))


def recent_executions(session: Session, namespace: str, flow_id: str, limit: int = 20) -> list[Execution]:
    """The flow's newest executions, tests of one task aside (uses ix_execution_flow_created)."""
    statement = (
        select(Execution)
        .where(Execution.namespace == namespace, Execution.flow_id == flow_id, col(Execution.test).is_(False))
        .order_by(col(Execution.created_at).desc())
        .limit(limit)
    )
    return list(session.exec(statement))
