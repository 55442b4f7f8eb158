"""The audit trail: the newest events of a namespace and the namespaces below it, for those who may read it.

A namespace's trail is for its administrators (``Action.READ_AUDIT``); the whole trail, which also holds events
tied to no namespace (users, sign-ins), is for global administrators only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field
from sqlalchemy import Engine

from engine.identity import audit, authz
from engine.identity.policy import Action, Principal, can
from engine.services.views import View
from engine.store.database import session_scope


class AuditEventView(View):
    id: int
    at: dt.datetime
    actor: str
    action: str
    namespace: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


def sees_everything(principal: Principal) -> bool:
    """Whether ``principal`` may read the whole trail (global administrators)."""
    return can(principal, Action.MANAGE_USERS, None)


def events(
    db: Engine, principal: Principal, namespace: str = "", *, before: int | None = None, limit: int = 50
) -> list[AuditEventView]:
    """The newest events first, paged by ``before`` (the id of the last event seen); ``Forbidden``/``NotVisible``
    unless ``principal`` may read that trail."""
    if namespace:
        authz.require(principal, Action.READ_AUDIT, namespace)
    elif not sees_everything(principal):
        raise authz.Forbidden("the audit trail of every namespace is for administrators: choose a namespace")
    with session_scope(db) as session:
        found = audit.events(session, namespace or None, limit=limit, before=before)
        return [AuditEventView.model_validate({**e.model_dump(), "details": e.details or {}}) for e in found]
