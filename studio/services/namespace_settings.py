"""A namespace's own variables and secrets for the studio (secret values go in, never come out).

Members of a namespace see its variables and the NAMES of its secrets; its administrators change them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.core import namespaces
from engine.flows.spec import NAMESPACE_PATTERN
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.store.database import session_scope
from engine.store.tables import NamespaceSecret, NamespaceVariable
from engine.workspace import secrets, variables
from studio.services import database


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def settings(principal: Principal, namespace: str) -> dict[str, list[dict[str, str]]]:
    """Variables and secret names seen by the namespace's flows: its own, then inherited (with their origin).

    Inherited ones come from the namespaces above, which the reader may not be a member of: a flow of this
    namespace reads them anyway, so its members are shown what their flows get (never a secret's value)."""
    from sqlmodel import col, select

    authz.require(principal, Action.READ, namespace)
    lineage = namespaces.lineage(namespace)
    with session_scope(database()) as session:
        found = list(session.exec(select(NamespaceVariable).where(col(NamespaceVariable.namespace).in_(lineage))))
        secret_rows = select(NamespaceSecret.namespace, NamespaceSecret.name)
        names = list(session.exec(secret_rows.where(col(NamespaceSecret.namespace).in_(lineage))))
    depth = {ns: index for index, ns in enumerate(lineage)}
    nearest_variable: dict[str, NamespaceVariable] = {}
    for row in sorted(found, key=lambda r: depth[r.namespace]):
        nearest_variable.setdefault(row.name, row)
    nearest_secret: dict[str, str] = {}
    for origin, name in sorted(names, key=lambda r: depth[r[0]]):
        nearest_secret.setdefault(name, origin)
    return {
        "variables": [
            {"name": name, "value": _shown(row.value), "origin": row.namespace, "own": str(row.namespace == namespace)}
            for name, row in sorted(nearest_variable.items())
        ],
        "secrets": [
            {"name": name, "origin": origin, "own": str(origin == namespace)}
            for name, origin in sorted(nearest_secret.items())
        ],
    }


def set_variable(principal: Principal, namespace: str, name: str, text: str) -> None:
    """Raises ``ValueError`` for a bad namespace or name, or a value that is not a scalar."""
    authz.require(principal, Action.MANAGE_VARIABLES, namespace)
    _check(namespace)
    variables.check_name(name)
    with session_scope(database()) as session:
        variables.set_variable(session, namespace, name, variables.parse_value(text), actor=principal.name)


def delete_variable(principal: Principal, namespace: str, name: str) -> None:
    authz.require(principal, Action.MANAGE_VARIABLES, namespace)
    with session_scope(database()) as session:
        variables.delete_variable(session, namespace, name, actor=principal.name)


def set_secret(principal: Principal, namespace: str, name: str, value: str) -> None:
    """Stored encrypted; raises ``ValueError`` for a bad namespace, name or an empty value."""
    authz.require(principal, Action.MANAGE_SECRETS, namespace)
    _check(namespace)
    secrets.check_name(name)
    if not value:
        raise ValueError("a secret needs a value")
    with session_scope(database()) as session:
        secrets.set_secret(session, namespace, name, value, actor=principal.name)


def delete_secret(principal: Principal, namespace: str, name: str) -> None:
    authz.require(principal, Action.MANAGE_SECRETS, namespace)
    with session_scope(database()) as session:
        secrets.delete_secret(session, namespace, name, actor=principal.name)


def _check(namespace: str) -> None:
    if not re.match(NAMESPACE_PATTERN, namespace):
        raise ValueError(f"'{namespace}' is not a valid namespace (lowercase words separated by dots)")
