"""Log lines: written in batches by workers, read by position so a follower never misses or repeats one."""

from __future__ import annotations

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from engine.core.levels import at_or_above
from engine.store.tables import LogLine


def write_logs(session: Session, snapshot, run, records) -> None:
    if not records:
        return
    rows = [
        {
            "execution_id": run.execution_id,
            "namespace": snapshot.flow.namespace,
            "flow_id": snapshot.flow.id,
            "task_id": run.task_id,
            "task_run_id": run.id,
            "attempt": run.attempt_count,
            "level": record.level,
            "message": record.message,
            "timestamp": record.timestamp,
        }
        for record in records
    ]
    session.execute(insert(LogLine), rows)


def write_execution_log(session: Session, execution, level: str, message: str) -> None:
    """A line from the engine itself about an execution (no task)."""
    session.add(
        LogLine(
            execution_id=execution.id,
            namespace=execution.namespace,
            flow_id=execution.flow_id,
            level=level,
            message=message,
        )
    )


def write_task_run_log(session: Session, run, level: str, message: str) -> None:
    """A line from the engine itself about a task run (its attempt to come)."""
    session.add(
        LogLine(
            execution_id=run.execution_id,
            namespace=run.namespace,
            flow_id=run.flow_id,
            task_id=run.task_id,
            task_run_id=run.id,
            attempt=run.attempt_count + 1,
            level=level,
            message=message,
        )
    )


def read_logs(
    session: Session,
    execution_id: str,
    *,
    after: int = 0,
    limit: int = 1000,
    task_id: str | None = None,
    min_level: str | None = None,
) -> list[LogLine]:
    """Lines of an execution with an id greater than ``after``, oldest first."""
    statement = select(LogLine).where(LogLine.execution_id == execution_id, col(LogLine.id) > after)
    if task_id:
        statement = statement.where(LogLine.task_id == task_id)
    if min_level:
        statement = statement.where(col(LogLine.level).in_(at_or_above(min_level)))
    return list(session.exec(statement.order_by(col(LogLine.id)).limit(limit)))


def last_log_id(session: Session, execution_id: str) -> int:
    """The id of the execution's newest line (0 without any): where a live follower starts reading."""
    newest = session.exec(select(func.max(LogLine.id)).where(LogLine.execution_id == execution_id)).one()
    return newest or 0
