"""Which ended executions are past their retention, and what deleting them would remove (engine/services/retention.py).

A flow's own ``retention`` wins over the global one; a flow without either keeps its executions. Only ended
executions are ever returned: a running one is never deleted, whatever its age.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, not_, or_, tuple_
from sqlmodel import Session, col, select

from engine.core.namespaces import subtree_condition
from engine.core.states import TERMINAL
from engine.store.tables import Execution, FlowRecord, LogLine


@dataclass(frozen=True)
class ExpiredExecution:
    id: str
    namespace: str
    flow_id: str


@dataclass(frozen=True)
class Cutoffs:
    """Executions that ended before ``default`` are expired, except those of a flow in ``per_flow``, which
    ended before that flow's own cutoff. ``default`` None: only the flows in ``per_flow`` expire."""

    default: dt.datetime | None = None
    per_flow: dict[tuple[str, str], dt.datetime] | None = None


def live_flow_revisions(session: Session) -> list[tuple[str, str, int]]:
    """(namespace, flow id, revision) of every live flow: what a caller parses (once per revision) for its retention."""
    statement = select(FlowRecord.namespace, FlowRecord.flow_id, FlowRecord.revision).where(
        col(FlowRecord.deleted).is_(False)
    )
    return [(ns, flow_id, revision) for ns, flow_id, revision in session.exec(statement)]


def expired_executions(
    session: Session,
    cutoffs: Cutoffs,
    *,
    limit: int | None,
    namespace: str | None = None,
    flow_id: str | None = None,
) -> list[ExpiredExecution]:
    """At most ``limit`` (None: all) ended executions older than their cutoff, oldest first (of ``namespace``
    and below it, of ``flow_id``, when given)."""
    per_flow = cutoffs.per_flow or {}
    ended = col(Execution.ended_at)
    key = tuple_(Execution.namespace, Execution.flow_id)
    conditions = [
        and_(Execution.namespace == ns, Execution.flow_id == flow, ended < cutoff)
        for (ns, flow), cutoff in per_flow.items()
    ]
    if cutoffs.default is not None:
        others = ended < cutoffs.default
        if per_flow:
            others = and_(others, not_(key.in_(list(per_flow))))
        conditions.append(others)
    if not conditions:
        return []
    statement = select(Execution.id, Execution.namespace, Execution.flow_id).where(
        col(Execution.state).in_(TERMINAL), ended.is_not(None), or_(*conditions)
    )
    if namespace:
        statement = statement.where(subtree_condition(Execution.namespace, namespace))
    if flow_id:
        statement = statement.where(Execution.flow_id == flow_id)
    rows = session.exec(statement.order_by(ended).limit(limit))
    return [ExpiredExecution(id=i, namespace=ns, flow_id=flow) for i, ns, flow in rows]


def log_line_count(session: Session, execution_ids: list[str]) -> int:
    """How many log lines these executions have (what deleting them removes)."""
    if not execution_ids:
        return 0
    return session.exec(
        select(func.count()).select_from(LogLine).where(col(LogLine.execution_id).in_(execution_ids))
    ).one()
