"""Rows named by (namespace, name) that a person sets and deletes: namespace variables and secrets.

One way to set and remove them, so both behave alike (who changed them and when is kept on the row).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session, SQLModel

from engine.store.tables import utcnow

Row = TypeVar("Row", bound=SQLModel)


def put_named(session: Session, table: type[Row], namespace: str, name: str, actor: str | None, **values: Any) -> Row:
    """Set ``values`` on the row, creating it or replacing what it held."""
    row = session.get(table, (namespace, name))
    if row is None:
        row = table(namespace=namespace, name=name, **values)
    for field, value in {**values, "updated_at": utcnow(), "updated_by": actor}.items():
        setattr(row, field, value)
    session.add(row)
    return row


def remove_named(session: Session, table: type[SQLModel], namespace: str, name: str) -> bool:
    """Whether there was such a row; a second call in the same session then finds nothing."""
    row = session.get(table, (namespace, name))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
