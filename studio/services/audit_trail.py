"""The audit trail for the studio: ``engine.services.audit_trail``'s events as the audit page's rows.

A namespace's trail is for its administrators (``read_audit``); the whole trail, which also holds events tied
to no namespace (users, sign-ins), is for global administrators only."""

from __future__ import annotations

from typing import Any

from engine.identity.policy import Action, Principal, can
from engine.services import audit_trail as service
from engine.services.connections import database
from studio.services import access

sees_everything = service.sees_everything  # whether the page may offer "all namespaces"


def audit_namespaces(principal: Principal) -> list[str]:
    """The namespaces whose trail the person may read, sorted: the only ones the audit page offers them."""
    return [name for name in access.reachable_namespaces(principal) if can(principal, Action.READ_AUDIT, name)]


def events(
    principal: Principal, namespace: str = "", before: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest events first, typed (the page words them); raises ``Forbidden``/``NotVisible`` unless the
    person may read that trail."""
    return [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "namespace": e.namespace or "",
            "target_kind": e.target_kind or "",
            "target_id": e.target_id or "",
            "details": e.details or {},
        }
        for e in service.events(database(), principal, namespace, before=before, limit=limit)
    ]
