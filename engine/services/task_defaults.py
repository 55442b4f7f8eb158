"""A namespace's task defaults through the service layer: members read them, those who manage its variables
change them (``Action.MANAGE_VARIABLES``, as variables: both shape what every flow of the namespace runs with)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from engine.core import namespaces as hierarchy
from engine.core.errors import InvalidInput
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.services.workspaces import check_namespace
from engine.store.database import session_scope
from engine.workspace import task_defaults


@dataclass
class TaskDefaultsView:
    namespace: str
    source: str  # the YAML as written ("" when the namespace sets none)
    defaults: list[dict[str, Any]]
    updated_by: str | None = None
    #: those of the namespaces above, nearest first: {namespace, source}; a nearer namespace wins
    inherited: list[dict[str, Any]] = field(default_factory=list)


def task_defaults_of(db: Engine, principal: Principal, namespace: str) -> TaskDefaultsView:
    authz.require(principal, Action.READ, namespace)
    check_namespace(namespace)
    with session_scope(db) as session:
        own = task_defaults.defaults_of(session, namespace)
        parents = [row for ns in hierarchy.lineage(namespace)[1:] if (row := task_defaults.defaults_of(session, ns))]
        return TaskDefaultsView(
            namespace=namespace,
            source=own.source if own else "",
            defaults=own.defaults if own else [],
            updated_by=own.updated_by if own else None,
            inherited=[{"namespace": row.namespace, "source": row.source} for row in parents],
        )


def set_task_defaults(
    db: Engine, principal: Principal, namespace: str, source: str, *, actor: str | None = None
) -> list[dict[str, Any]]:
    """Replace the namespace's defaults with the YAML ``source`` (empty: none). ``InvalidInput`` whose details
    list the problems, each at its line and column."""
    authz.require(principal, Action.MANAGE_VARIABLES, namespace)
    check_namespace(namespace)
    with session_scope(db) as session:
        try:
            return task_defaults.set_defaults(session, namespace, source, actor=actor or principal.name)
        except task_defaults.DefaultsInvalid as exc:
            refusal = InvalidInput(f"the task defaults are invalid:\n{exc}")
            refusal.details = {"problems": [p.as_dict() for p in exc.problems]}
            raise refusal from None
