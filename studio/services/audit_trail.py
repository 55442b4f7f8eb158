"""The audit trail for the studio: the newest events of a namespace and the namespaces below it.

A namespace's trail is for its administrators (``read_audit``); the whole trail, which also holds events tied
to no namespace (users, sign-ins), is for global administrators only."""

from __future__ import annotations

import json

from engine.identity import audit, authz
from engine.identity.policy import Action, Principal, can
from engine.store.database import session_scope
from studio.services import access, database


def sees_everything(principal: Principal) -> bool:
    """Whether the page may offer "all namespaces" (global administrators)."""
    return can(principal, Action.MANAGE_USERS, None)


def audit_namespaces(principal: Principal) -> list[str]:
    """The namespaces whose trail the person may read, sorted: the only ones the audit page offers them."""
    return [name for name in access.reachable_namespaces(principal) if can(principal, Action.READ_AUDIT, name)]


def events(
    principal: Principal, namespace: str = "", before: int | None = None, limit: int = 50
) -> list[dict[str, str]]:
    """The newest events first; raises ``Forbidden``/``NotVisible`` unless the person may read that trail."""
    if namespace:
        authz.require(principal, Action.READ_AUDIT, namespace)
    elif not sees_everything(principal):
        raise authz.Forbidden("the audit trail of every namespace is for administrators: choose a namespace")
    with session_scope(database()) as session:
        found = audit.events(session, namespace or None, limit=limit, before=before)
        return [
            {
                "id": str(e.id),
                "at": e.at.strftime("%Y-%m-%d %H:%M:%S"),
                "actor": e.actor,
                "action": e.action,
                "namespace": e.namespace or "",
                "target": f"{e.target_kind or ''} {e.target_id or ''}".strip(),
                "details": json.dumps(e.details, default=str) if e.details else "",
            }
            for e in found
        ]
