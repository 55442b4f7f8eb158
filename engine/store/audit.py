"""The audit trail's rows: who did what, where, when. Events are only ever added, never changed.

The vocabulary (actions, actors that are not people) lives here with the table it fills, so that the store
itself can record what it changes (a deploy) in the same transaction; ``engine.identity.audit`` is the name the
rest of the code imports it by."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from engine.core.namespaces import subtree_condition
from engine.store.tables import AuditEvent, utcnow

# Actors that are not people: the engine itself, a webhook call, a visitor through a share link.
SYSTEM = "system"
WEBHOOK = "webhook"
SHARE = "share"
RESERVED_ACTORS = frozenset({SYSTEM, WEBHOOK, SHARE})


class AuditAction(StrEnum):
    CREATED = "created"
    CHANGED = "changed"
    DEPLOYED = "deployed"
    DELETED = "deleted"
    RESTORED = "restored"  # a deleted flow brought back
    RAN = "ran"
    KILLED = "killed"
    RESTARTED = "restarted"
    PAUSED = "paused"
    RESUMED = "resumed"
    ENABLED = "enabled"
    DISABLED = "disabled"
    SHARED = "shared"
    UNSHARED = "unshared"
    MEMBERSHIP_CHANGED = "membership_changed"
    TOKEN_CREATED = "token_created"  # noqa: S105 - an action name, not a secret
    TOKEN_REVOKED = "token_revoked"  # noqa: S105
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"


_INSERT_EVENT = AuditEvent.__table__.insert()


def record(
    session: Session,
    actor: str,
    action: AuditAction,
    namespace: str | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    **details: Any,
) -> None:
    """Add an event to the caller's transaction: it is kept only if what it describes is kept too.

    ``details`` must be JSON-compatible and never hold a secret (a password, a token, a secret's value). Written at
    once by a Core insert (every trigger writes one: the ORM's unit of work cost it more than the row), after what
    the session holds, as a flush wrote them before.
    """
    session.flush()
    row = {"at": utcnow(), "actor": actor, "action": AuditAction(action).value, "namespace": namespace,
           "target_kind": target_kind, "target_id": target_id, "details": details}  # fmt: skip
    session.connection().execute(_INSERT_EVENT, row)


def events(
    session: Session,
    namespace: str | None = None,
    *,
    limit: int = 100,
    before: int | None = None,
    actor: str | None = None,
) -> list[AuditEvent]:
    """The newest events first: of ``namespace`` and the namespaces below it (every event when None).

    Pages by event id (``before`` = the id of the last event of the previous page): ids grow with time and,
    unlike timestamps, never tie.
    """
    statement = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if namespace is not None:
        statement = statement.where(subtree_condition(col(AuditEvent.namespace), namespace))
    if before is not None:
        statement = statement.where(col(AuditEvent.id) < before)
    if actor is not None:
        statement = statement.where(AuditEvent.actor == actor)
    return list(session.exec(statement))
