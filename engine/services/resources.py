"""A namespace's resources through the service layer: its members read them; those who manage its variables
change its worker group (it steers where every flow of the namespace runs, as variables do); global administrators
alone change its limits (``Action.MANAGE_RESOURCES``), which share the installation's workers between teams."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from engine.core.errors import InvalidInput
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.services.workspaces import check_namespace
from engine.store.database import session_scope
from engine.workspace import resources
from engine.workspace.resources import Resources


def resources_of(db: Engine, principal: Principal, namespace: str) -> Resources:
    authz.require(principal, Action.READ, namespace)
    check_namespace(namespace)
    with session_scope(db) as session:
        return resources.resources_of(session, namespace)


def set_resources(
    db: Engine, principal: Principal, namespace: str, values: dict[str, Any], *, actor: str | None = None
) -> Resources:
    """Change the settings given (None clears one); ``InvalidInput`` naming a wrong one."""
    authz.require(principal, Action.MANAGE_VARIABLES, namespace)
    if set(values) - {"worker_group"}:
        authz.require(principal, Action.MANAGE_RESOURCES, namespace)
    check_namespace(namespace)
    try:
        resources.check(values)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with session_scope(db) as session:
        resources.set_resources(session, namespace, values, actor=actor or principal.name)
        return resources.resources_of(session, namespace)
