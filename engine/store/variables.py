"""Namespace variables: the rows. Inheritance along the namespace lineage: ``engine.workspace.variables``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from engine.store.named_values import put_named, remove_named
from engine.store.tables import NamespaceVariable


def put_variable(session: Session, namespace: str, name: str, value: Any, actor: str | None) -> None:
    """Set the variable, creating it or replacing its value."""
    put_named(session, NamespaceVariable, namespace, name, actor, value=value)


def remove_variable(session: Session, namespace: str, name: str) -> bool:
    """Whether there was such a variable; a second call in the same session then finds nothing."""
    return remove_named(session, NamespaceVariable, namespace, name)


def variables_of(session: Session, namespace: str) -> list[NamespaceVariable]:
    """The variables set on this namespace itself, by name."""
    statement = select(NamespaceVariable).where(NamespaceVariable.namespace == namespace)
    return list(session.exec(statement.order_by(col(NamespaceVariable.name))))


def variables_in(session: Session, namespaces: Iterable[str]) -> list[tuple[str, str, Any]]:
    """``(namespace, name, value)`` of every variable set on any of ``namespaces``, in one query."""
    statement = select(NamespaceVariable.namespace, NamespaceVariable.name, NamespaceVariable.value).where(
        col(NamespaceVariable.namespace).in_(list(namespaces))
    )
    return [tuple(row) for row in session.exec(statement)]


def variable_rows_in(session: Session, namespaces: Iterable[str]) -> list[NamespaceVariable]:
    """The variables set on any of ``namespaces``, as rows (who changed them and when included)."""
    statement = select(NamespaceVariable).where(col(NamespaceVariable.namespace).in_(list(namespaces)))
    return list(session.exec(statement))
