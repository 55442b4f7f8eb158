"""A namespace as a team's workspace: the namespaces a person reaches, and each one's variables and secrets.

Every function decides access once (``engine.identity.authz``): members of a namespace read its variables and
the NAMES of its secrets, its administrators change them (``Action.MANAGE_VARIABLES``/``MANAGE_SECRETS``). The
changes are audited by ``engine.workspace`` in the same transaction. ``actor`` is the name the audit trail
records: the caller's name unless the adapter says otherwise (the API records "api" on a local install).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine

from engine.core import namespaces as hierarchy
from engine.core.errors import InvalidInput
from engine.flows.spec import NAMESPACE_PATTERN
from engine.identity import authz
from engine.identity.crypto import SecretKey
from engine.identity.policy import Action, Principal
from engine.services.workspace_views import (
    InheritedSecretView,
    InheritedVariableView,
    NamespaceSettingsView,
    NamespaceView,
    VariableView,
)
from engine.store import namespaces as store
from engine.store import secrets as secret_store
from engine.store import variables as variable_store
from engine.store.database import session_scope
from engine.store.tables import Execution, FlowRecord, Namespace
from engine.workspace import secrets, variables


def namespace_names(db: Engine, principal: Principal) -> list[str]:
    """Every existing namespace ``principal`` may read, sorted (filtered in SQL)."""
    with session_scope(db) as session:
        return store.namespace_names(session, authz.readable(principal, Namespace.name))


def namespaces(db: Engine, principal: Principal) -> list[NamespaceView]:
    """The namespaces ``principal`` may read, with how many flows and executions each holds."""
    with session_scope(db) as session:
        names = store.namespace_names(session, authz.readable(principal, Namespace.name))
        flows = store.live_flows_per_namespace(session, authz.readable(principal, FlowRecord.namespace))
        runs = store.executions_per_namespace(session, authz.readable(principal, Execution.namespace))
    return [NamespaceView(name=n, flows=flows.get(n, 0), executions=runs.get(n, 0)) for n in names]


def check_namespace(namespace: str) -> str:
    """``InvalidInput`` for a name that is not a namespace (lowercase words separated by dots)."""
    if not re.match(NAMESPACE_PATTERN, namespace):
        raise InvalidInput(f"'{namespace}' is not a valid namespace (lowercase words separated by dots)")
    return namespace


def _checked(check: Any, value: Any) -> None:
    """Run a ``ValueError``-raising check of ``engine.workspace`` and refuse as ``InvalidInput``."""
    try:
        check(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _may_set(principal: Principal, action: Action, namespace: str, name: str, check_name: Any) -> None:
    """Setting a variable or a secret: decided once, on a valid namespace and name."""
    authz.require(principal, action, namespace)
    check_namespace(namespace)
    _checked(check_name, name)


# --- variables ---------------------------------------------------------------------------------------------


def variables_of(db: Engine, principal: Principal, namespace: str) -> list[VariableView]:
    """The variables set on this namespace itself, by name (flows also inherit their parents')."""
    authz.require(principal, Action.READ, namespace)
    with session_scope(db) as session:
        return [VariableView.of(row) for row in variables.list_variables(session, namespace)]


def _scalar(value: Any) -> None:
    if isinstance(value, dict | list):
        raise ValueError("a variable is a scalar (text, number, boolean or null)")


def set_variable(
    db: Engine, principal: Principal, namespace: str, name: str, value: Any, *, actor: str | None = None
) -> None:
    """``InvalidInput`` for a value that is not a scalar, a bad name or namespace."""
    _may_set(principal, Action.MANAGE_VARIABLES, namespace, name, variables.check_name)
    _checked(_scalar, value)
    with session_scope(db) as session:
        variables.set_variable(session, namespace, name, value, actor=actor or principal.name)


def delete_variable(db: Engine, principal: Principal, namespace: str, name: str, *, actor: str | None = None) -> bool:
    """Whether there was such a variable on the namespace."""
    authz.require(principal, Action.MANAGE_VARIABLES, namespace)
    with session_scope(db) as session:
        return variables.delete_variable(session, namespace, name, actor=actor or principal.name)


# --- secrets (names only: a value goes in and never comes out) --------------------------------------------


def secret_names(db: Engine, principal: Principal, namespace: str) -> list[str]:
    """Names of the secrets set on this namespace itself: a secret's value is never shown after it is saved."""
    authz.require(principal, Action.READ, namespace)
    with session_scope(db) as session:
        return secrets.list_secret_names(session, namespace)


def set_secret(
    db: Engine, principal: Principal, namespace: str, name: str, value: str, *, actor: str | None = None
) -> None:
    """Stored encrypted; ``InvalidInput`` for a bad name or namespace, or an empty value."""
    _may_set(principal, Action.MANAGE_SECRETS, namespace, name, secrets.check_name)
    if not value:
        raise InvalidInput("a secret needs a value")
    with session_scope(db) as session:
        secrets.set_secret(session, namespace, name, value, actor=actor or principal.name)


def delete_secret(db: Engine, principal: Principal, namespace: str, name: str, *, actor: str | None = None) -> bool:
    """Whether there was such a secret on the namespace."""
    authz.require(principal, Action.MANAGE_SECRETS, namespace)
    with session_scope(db) as session:
        return secrets.delete_secret(session, namespace, name, actor=actor or principal.name)


def rotate_secret_key(db: Engine, principal: Principal, old: SecretKey, new: SecretKey, *, actor: str) -> int:
    """Re-encrypt every stored secret (and sealed input) under ``new``, all or none: global administrators only.
    Returns how many namespace secrets were re-encrypted; ``ValueError`` names keys that are neither."""
    authz.require(principal, Action.MANAGE_SECRETS, None)
    with session_scope(db) as session:
        return secrets.rotate_key(session, old, new, actor=actor)


# --- what a namespace's flows see ----------------------------------------------------------------------------


def settings(db: Engine, principal: Principal, namespace: str) -> NamespaceSettingsView:
    """Variables and secret names seen by the namespace's flows: its own, then inherited (with their origin).

    Inherited ones come from the namespaces above, which the reader may not be a member of: a flow of this
    namespace reads them anyway, so its members are shown what their flows get (never a secret's value)."""
    authz.require(principal, Action.READ, namespace)
    lineage = hierarchy.lineage(namespace)
    with session_scope(db) as session:
        rows = variable_store.variable_rows_in(session, lineage)
        names = secret_store.secret_names_in(session, lineage)
    depth = {ns: index for index, ns in enumerate(lineage)}
    nearest_variable: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: depth[r.namespace]):
        nearest_variable.setdefault(row.name, row)
    nearest_secret: dict[str, str] = {}
    for origin, name in sorted(names, key=lambda r: depth[r[0]]):
        nearest_secret.setdefault(name, origin)
    return NamespaceSettingsView(
        variables=[
            InheritedVariableView(name=name, value=row.value, origin=row.namespace, own=row.namespace == namespace)
            for name, row in sorted(nearest_variable.items())
        ],
        secrets=[
            InheritedSecretView(name=name, origin=origin, own=origin == namespace)
            for name, origin in sorted(nearest_secret.items())
        ],
    )
