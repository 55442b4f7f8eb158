"""The audit trail: who created, changed, deployed, ran, killed, deleted or shared what, and when."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import Session

from engine.api.deps import Caller, connections
from engine.identity import audit, authz
from engine.identity.policy import Action

router = APIRouter(tags=["audit"])


class AuditEventOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    namespace: str | None
    target_kind: str | None
    target_id: str | None
    details: dict[str, Any]


@router.get("/audit", response_model=list[AuditEventOut])
def audit_events(
    caller: Caller,
    namespace: Annotated[str | None, Query(max_length=150)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditEventOut]:
    """Newest first, of ``namespace`` and the namespaces below it; page with ``before`` = the last id seen.

    A namespace's administrators read its trail; the whole trail (no namespace) is for global administrators.
    """
    authz.require(caller, Action.READ_AUDIT, namespace or None)
    with Session(connections().db) as session:
        found = audit.events(session, namespace or None, limit=limit, before=before)
        return [AuditEventOut.model_validate({**e.model_dump(), "details": e.details or {}}) for e in found]
