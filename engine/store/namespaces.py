"""Namespaces and what each holds, counted by the database. ``where`` is an extra SQL condition on the column
named in each function, such as the namespaces a person may read (``engine.identity.authz.readable``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.store.tables import Execution, FlowRecord, Namespace


def namespace_names(session: Session, where: Any = None) -> list[str]:
    """Every namespace (``where`` on ``Namespace.name``), sorted."""
    statement = select(Namespace.name)
    if where is not None:
        statement = statement.where(where)
    return list(session.exec(statement.order_by(Namespace.name)))


def live_flows_per_namespace(session: Session, where: Any = None) -> dict[str, int]:
    """How many flows not deleted each namespace holds (``where`` on ``FlowRecord.namespace``)."""
    statement = select(FlowRecord.namespace, func.count()).where(col(FlowRecord.deleted).is_(False))
    if where is not None:
        statement = statement.where(where)
    return dict(session.exec(statement.group_by(FlowRecord.namespace)).all())


def executions_per_namespace(session: Session, where: Any = None) -> dict[str, int]:
    """How many executions each namespace holds (``where`` on ``Execution.namespace``)."""
    statement = select(Execution.namespace, func.count())
    if where is not None:
        statement = statement.where(where)
    return dict(session.exec(statement.group_by(Execution.namespace)).all())
