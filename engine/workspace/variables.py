"""Namespace variables: values every flow of a namespace, and of the namespaces below it, reads as ``vars.<name>``.

A flow of ``acme.sales.eu`` sees the variables of ``acme``, overridden by those of ``acme.sales``, overridden
by those of ``acme.sales.eu``, overridden by the flow's own ``variables`` (top-level names; values are not
merged deeper).
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from engine.core.namespaces import lineage
from engine.identity import audit
from engine.store import variables as store
from engine.store.tables import NamespaceVariable

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")  # read as vars.<name>: an identifier


def check_name(name: str) -> None:
    """Raises ``ValueError`` for a name a flow could not read as ``vars.<name>``."""
    if not NAME.match(name):
        raise ValueError(f"'{name}' is not a variable name: letters, digits and '_' (read as vars.{name or 'name'})")


def parse_value(text: str) -> Any:
    """A variable typed as text, read as a YAML scalar: ``42`` is a number, ``true`` a boolean, ``'x'`` a text."""
    import yaml

    try:
        parsed = yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text  # not valid YAML: the text itself
    if isinstance(parsed, dict | list):
        raise ValueError("a variable is a scalar (text, number, boolean or null)")
    return parsed


def set_variable(session: Session, namespace: str, name: str, value: Any, actor: str | None = None) -> None:
    """Raises ``ValueError`` for a name that is not an identifier (see ``check_name``)."""
    check_name(name)
    store.put_variable(session, namespace, name, value, actor)
    audit.record(session, actor or audit.SYSTEM, audit.AuditAction.CHANGED, namespace, "variable", name)


def delete_variable(session: Session, namespace: str, name: str, actor: str | None = None) -> bool:
    """Whether there was such a variable."""
    if not store.remove_variable(session, namespace, name):
        return False
    audit.record(session, actor or audit.SYSTEM, audit.AuditAction.DELETED, namespace, "variable", name)
    return True


def list_variables(session: Session, namespace: str) -> list[NamespaceVariable]:
    """The variables set on this namespace itself (not inherited), by name."""
    return store.variables_of(session, namespace)


def merge_by_lineage(rows: list[tuple[str, str, Any]], namespace: str) -> dict[str, Any]:
    """``(namespace, name, value)`` rows of the lineage merged so that a nearer namespace wins."""
    depth = {ns: index for index, ns in enumerate(lineage(namespace))}
    merged: dict[str, Any] = {}
    for _, name, value in sorted(rows, key=lambda row: depth[row[0]], reverse=True):  # farthest first
        merged[name] = value
    return merged


def inherited_variables(session: Session, namespace: str) -> dict[str, Any]:
    """What flows of ``namespace`` see as namespace variables: one query for the whole lineage."""
    return merge_by_lineage(store.variables_in(session, lineage(namespace)), namespace)
