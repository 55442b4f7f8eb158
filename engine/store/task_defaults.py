"""Namespace task defaults as stored: one row per namespace (engine/workspace/task_defaults.py checks them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from engine.store.tables import NamespaceTaskDefaults, utcnow

# Every attempt of every task run reads it: built once (building it cost more than running it on SQLite).
_DEFAULTS = NamespaceTaskDefaults.__table__
_DEFAULTS_OF_LINEAGE = core_select(_DEFAULTS.c.namespace, _DEFAULTS.c.defaults).where(
    _DEFAULTS.c.namespace.in_(bindparam("chain", expanding=True))
)


def defaults_row(session: Session, namespace: str) -> NamespaceTaskDefaults | None:
    """The defaults set on this namespace itself (not inherited)."""
    return session.get(NamespaceTaskDefaults, namespace)


def save_defaults(
    session: Session, namespace: str, source: str, defaults: list[dict[str, Any]], actor: str | None
) -> None:
    """Keep ``source`` (as written) and its parsed ``defaults`` for the namespace; an empty text removes them."""
    row = session.get(NamespaceTaskDefaults, namespace)
    if not defaults and not source.strip():
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(NamespaceTaskDefaults(namespace=namespace, source=source, defaults=defaults, updated_by=actor))
    else:
        row.source, row.defaults, row.updated_at, row.updated_by = source, defaults, utcnow(), actor
        session.add(row)


def defaults_of_lineage(session: Session, chain: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The non-empty defaults of each namespace of ``chain`` that has some (one query on the primary key)."""
    rows = session.connection().execute(_DEFAULTS_OF_LINEAGE, {"chain": chain})
    return {name: defaults for name, defaults in rows if defaults}
