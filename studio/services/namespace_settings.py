"""A namespace's own variables and secrets for the studio (secret values go in, never come out).

Members of a namespace see its variables and the NAMES of its secrets; its administrators change them.
``engine.services.workspaces`` decides access and audits; this formats its views for the namespace page.
"""

from __future__ import annotations

from typing import Any

from engine.identity.policy import Principal
from engine.services import workspaces
from engine.workspace import variables
from studio.services import database


def settings(principal: Principal, namespace: str) -> dict[str, list[dict[str, Any]]]:
    """Variables (with their typed values) and secret names seen by the namespace's flows: its own, then
    inherited (with their origin; ``own`` when set on this namespace)."""
    seen = workspaces.settings(database(), principal, namespace)
    return {
        "variables": [{"name": v.name, "value": v.value, "origin": v.origin, "own": v.own} for v in seen.variables],
        "secrets": [{"name": s.name, "origin": s.origin, "own": s.own} for s in seen.secrets],
    }


def set_variable(principal: Principal, namespace: str, name: str, text: str) -> None:
    """``text`` is read as a YAML scalar; raises ``ValueError`` for a bad namespace or name, or a value that is
    not a scalar."""
    workspaces.set_variable(database(), principal, namespace, name, variables.parse_value(text))


def delete_variable(principal: Principal, namespace: str, name: str) -> None:
    workspaces.delete_variable(database(), principal, namespace, name)


def set_secret(principal: Principal, namespace: str, name: str, value: str) -> None:
    """Stored encrypted; raises ``ValueError`` for a bad namespace, name or an empty value."""
    workspaces.set_secret(database(), principal, namespace, name, value)


def delete_secret(principal: Principal, namespace: str, name: str) -> None:
    workspaces.delete_secret(database(), principal, namespace, name)


def task_defaults(principal: Principal, namespace: str) -> dict[str, Any]:
    """The namespace's own task defaults as written, and those it inherits (nearest first)."""
    from engine.services import task_defaults as service

    found = service.task_defaults_of(database(), principal, namespace)
    return {"source": found.source, "inherited": found.inherited}


def set_task_defaults(principal: Principal, namespace: str, source: str) -> int:
    """Replace them; raises ``ValueError`` (``InvalidInput``) listing each problem at its line and column."""
    from engine.services import task_defaults as service

    return len(service.set_task_defaults(database(), principal, namespace, source))
