"""The audit trail for the studio: the newest events of a namespace and the namespaces below it."""

from __future__ import annotations

import json

from engine import audit
from engine.store.database import session_scope
from studio.services import database


def events(namespace: str = "", before: int | None = None, limit: int = 50) -> list[dict[str, str]]:
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
