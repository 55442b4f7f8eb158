"""The audit trail: who did what, where, when. Events are only ever added, never changed.

The actions, the actors that are not people, and reading and writing events are defined with the table in
``engine/store/audit.py`` (the store records a deploy in its own transaction); this is the name the
services, the API, the CLI and the studio import them by.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from engine.store.audit import RESERVED_ACTORS, SHARE, SYSTEM, WEBHOOK, AuditAction, events, record
from engine.store.tables import AuditEvent

__all__ = ["RESERVED_ACTORS", "SHARE", "SYSTEM", "WEBHOOK", "AuditAction", "events", "record", "record_about_user"]


def record_about_user(
    session: Session, actor: str, action: AuditAction, username: str, *, namespace: str | None = None, **details: Any
) -> AuditEvent:
    """An event about a person's account: created, signed in, disabled, a role or a token changed."""
    return record(session, actor, action, namespace, "user", username, **details)
