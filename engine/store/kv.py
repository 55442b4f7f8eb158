"""Namespace key-value entries: the rows. Names, values, expiry and inheritance: ``engine.workspace.kv``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from engine.store.tables import KvEntry, utcnow


def entry(session: Session, namespace: str, key: str) -> KvEntry | None:
    """The row set on exactly this namespace, expired or not."""
    return session.get(KvEntry, (namespace, key))


def put_entry(
    session: Session, namespace: str, key: str, value: Any, kind: str, expires_at: dt.datetime | None, actor: str | None
) -> KvEntry:
    """Set the entry, creating it or replacing its value and expiry (its creation time is kept)."""
    row = session.get(KvEntry, (namespace, key))
    now = utcnow()
    if row is None:
        row = KvEntry(namespace=namespace, key=key, type=kind, created_at=now)
    row.value, row.type, row.expires_at, row.updated_at, row.updated_by = value, kind, expires_at, now, actor
    session.add(row)
    session.flush()
    return row


def remove_entry(session: Session, namespace: str, key: str) -> bool:
    """Whether there was such a row (expired ones included)."""
    row = session.get(KvEntry, (namespace, key))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def entries_in(session: Session, namespaces: Iterable[str], key: str | None = None) -> list[KvEntry]:
    """The rows set on any of ``namespaces`` (only ``key``'s when given), in one query, expired ones included."""
    statement = select(KvEntry).where(col(KvEntry.namespace).in_(list(namespaces)))
    if key is not None:
        statement = statement.where(KvEntry.key == key)
    return list(session.exec(statement.order_by(col(KvEntry.key))))


def remove_expired(session: Session, now: dt.datetime, namespace: str | None = None) -> int:
    """Delete the entries (of ``namespace`` only, when given) that expired at or before ``now``; how many went."""
    statement = delete(KvEntry).where(col(KvEntry.expires_at).is_not(None), col(KvEntry.expires_at) <= now)
    if namespace is not None:
        statement = statement.where(col(KvEntry.namespace) == namespace)
    return session.execute(statement).rowcount or 0
