"""Namespaces with their counts of flows and executions."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.api.deps import Caller, connections
from engine.api.schemas import NamespaceOut
from engine.identity import authz
from engine.store.tables import Execution, FlowRecord, Namespace

router = APIRouter(tags=["namespaces"])


@router.get("/namespaces", response_model=list[NamespaceOut])
def list_namespaces(caller: Caller) -> list[NamespaceOut]:
    """The namespaces the caller may read, with their counts."""
    with Session(connections().db) as session:
        names = list(
            session.exec(select(Namespace.name).where(authz.readable(caller, Namespace.name)).order_by(Namespace.name))
        )
        flows = dict(
            session.exec(
                select(FlowRecord.namespace, func.count())
                .where(col(FlowRecord.deleted).is_(False), authz.readable(caller, FlowRecord.namespace))
                .group_by(FlowRecord.namespace)
            ).all()
        )
        executions = dict(
            session.exec(
                select(Execution.namespace, func.count())
                .where(authz.readable(caller, Execution.namespace))
                .group_by(Execution.namespace)
            ).all()
        )
    return [NamespaceOut(name=n, flows=flows.get(n, 0), executions=executions.get(n, 0)) for n in names]
