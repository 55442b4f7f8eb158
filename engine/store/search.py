"""Finding executions (filters, sort, pages) and deleting ended ones. The API and the studio share these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, func, or_
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause
from sqlmodel import Session, col, select

from engine.core.errors import Conflict
from engine.core.namespaces import subtree_condition
from engine.core.states import TERMINAL
from engine.store.database import unindexed
from engine.store.tables import Execution, LogLine, TaskRun, TaskRunAttempt

SORTABLE = {
    "created": Execution.created_at,
    "started": Execution.started_at,
    "duration": Execution.duration_ms,
    "state": Execution.state,
    "flow": Execution.flow_id,
    "namespace": Execution.namespace,
}
FEW_TO_SORT = 5_000  # matches that SQLite sorts for a page quicker than it walks the creation index to them
LABEL_SCAN_LIMIT = 10_000  # labels live in a JSON column: filtered in Python after the indexed filters


@dataclass(frozen=True)
class ExecutionFilter:
    """What an executions list asks for; empty fields filter nothing. ``namespace`` includes its children."""

    namespace: str | None = None
    flow_id: str | None = None
    states: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # the start of an execution id, or part of a flow id
    start: dt.datetime | None = None  # created at or after
    end: dt.datetime | None = None  # created before
    tests: bool = False  # tests of one task (the editor's "Test task") too; by default only real runs
    where: Any = None  # an extra SQL condition: the namespaces the asker may read (engine.identity.authz.readable)


def _statement(wanted: ExecutionFilter):
    statement = select(Execution)
    if not wanted.tests:
        statement = statement.where(col(Execution.test).is_(False))
    if wanted.where is not None:
        statement = statement.where(wanted.where)
    if wanted.namespace:
        statement = statement.where(subtree_condition(Execution.namespace, wanted.namespace))
    if wanted.flow_id:
        statement = statement.where(Execution.flow_id == wanted.flow_id)
    if wanted.states:
        statement = statement.where(col(Execution.state).in_(list(wanted.states)))
    if wanted.start:
        statement = statement.where(col(Execution.created_at) >= wanted.start)
    if wanted.end:
        statement = statement.where(col(Execution.created_at) < wanted.end)
    if wanted.text:
        text = wanted.text.strip()
        statement = statement.where(
            or_(
                col(Execution.id).startswith(text, autoescape=True),
                col(Execution.flow_id).contains(text, autoescape=True),
            )
        )
    return statement


def search_executions(
    session: Session,
    wanted: ExecutionFilter,
    *,
    sort: str = "created",
    descending: bool = True,
    page: int = 1,
    size: int = 50,
) -> tuple[list[Execution], int]:
    """One page of matching executions and how many match in all (newest first unless told otherwise)."""
    column = col(SORTABLE.get(sort, Execution.created_at))
    by = column.desc() if descending else column.asc()
    # Executions without a value (no duration yet) go last either way, on SQLite as on PostgreSQL. Said only of a
    # column that can be empty: PostgreSQL's indexes give "newest first" with empty values first, so for any other
    # column it would sort every match instead of reading the first ones in order (0.5 s at 1,000,000 executions).
    order = [by.nulls_last() if column.expression.nullable else by, col(Execution.id).desc()]
    statement = _statement(wanted)
    offset = (max(page, 1) - 1) * size
    if wanted.labels:
        rows = [
            r
            for r in session.exec(statement.order_by(*order).limit(LABEL_SCAN_LIMIT))
            if all(str(r.labels.get(k)) == v for k, v in wanted.labels.items())
        ]
        return rows[offset : offset + size], len(rows)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    if sort == "created" and total > FEW_TO_SORT and session.get_bind().dialect.name == "sqlite":
        statement = _off_the_namespace_indexes(statement)
    return list(session.exec(statement.order_by(*order).offset(offset).limit(size))), total


def _off_the_namespace_indexes(statement: Select) -> Select:
    """The same rows, with SQLite kept off the namespace indexes: it then walks the creation index newest first
    and stops at the page's last row. With no statistics (SQLite gathers none unless told to) it takes a namespace
    range for a few rows, and sorts every match for a page: a one-team viewer's page at 1,000,000 executions took
    0.6-2.0 s. Many matches (the count says) are few rows to walk past to fill a page; few matches are quick to
    sort, and then the namespace index is the quicker way to them."""
    if statement.whereclause is None:
        return statement
    column = Execution.__table__.c.namespace

    def unindexed_namespace(element: Any) -> Any:
        # The conditions hold the ORM's annotated copy of the column: the same name on the same table.
        same = isinstance(element, ColumnClause) and getattr(element, "table", None) is column.table
        return unindexed(column) if same and element.name == column.name else None

    return select(Execution).where(visitors.replacement_traverse(statement.whereclause, {}, unindexed_namespace))


class ExecutionRunning(Conflict):
    """Only ended executions can be deleted (kill it first)."""


def delete_executions(session: Session, execution_ids: list[str]) -> int:
    """Delete ended executions with their task runs, attempts, logs and trigger fires; returns how many."""
    found = list(session.exec(select(Execution).where(col(Execution.id).in_(execution_ids))))
    running = [e.id for e in found if e.state not in TERMINAL]
    if running:
        raise ExecutionRunning(f"{len(running)} execution(s) still running: kill them first ({', '.join(running)})")
    ids = [e.id for e in found]
    if not ids:
        return 0
    run_ids = select(TaskRun.id).where(col(TaskRun.execution_id).in_(ids))
    session.exec(delete(TaskRunAttempt).where(col(TaskRunAttempt.task_run_id).in_(run_ids)))
    session.exec(delete(TaskRun).where(col(TaskRun.execution_id).in_(ids)))
    session.exec(delete(LogLine).where(col(LogLine.execution_id).in_(ids)))
    # A fired schedule slot stays claimed: deleting its run must not make the scheduler fire it again.
    session.exec(delete(Execution).where(col(Execution.id).in_(ids)))
    return len(ids)
