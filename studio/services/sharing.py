"""Share links for the studio: make, list and revoke them, and what a link's visitor may see.

A visitor holds only a token. ``shared_view`` is the one function a token reaches, and it returns its target
alone: a flow's text and canvas, or an execution's header, task states, Gantt spans and logs. It returns no id
of anything else (no parent execution, no task run ids, no inputs, outputs or trigger) and offers no action.

Making, listing and revoking links is for the namespace's editors (``Action.SHARE``): a link shows the
namespace's work to people outside it.
"""

from __future__ import annotations

from typing import Any

from engine.core.states import TERMINAL
from engine.identity.policy import Principal
from engine.services import sharing as service
from engine.services.workspace_views import SharedTargetView, ShareLinkView
from studio.services import database, graph_of, node_run_view


def _row(link: ShareLinkView) -> dict[str, Any]:
    """A link, typed (only its digest is kept: the token is not in it); the dialog words it."""
    return {
        "id": link.id,
        "created": link.created_at,
        "expires": link.expires_at,
        "revoked": link.revoked_at,
        "revision": link.revision,
        "status": link.status,
        "active": link.active,
    }


def create_link(
    principal: Principal, kind: str, namespace: str, target_id: str, revision: int | None = None, days: int = 7
) -> tuple[str, dict[str, Any]]:
    """A new link valid ``days`` days (1 to 365): its URL path (``/share/<token>``, shown once) and its row."""
    link = service.create_link(database(), principal, kind, namespace, target_id, revision=revision, days=days)
    return link.path or "", _row(link)


def links(principal: Principal, kind: str, namespace: str, target_id: str) -> list[dict[str, Any]]:
    """Every link ever made to this target, newest first, revoked and expired ones included."""
    return [_row(link) for link in service.links(database(), principal, kind, namespace, target_id)]


def revoke(principal: Principal, link_id: int) -> None:
    """Raises ``NotVisible`` alike for an unknown link and one of a namespace the person may not read."""
    service.revoke(database(), principal, link_id)


def shared_view(token: str) -> dict[str, Any] | None:
    """What a link's visitor sees, or None when the token is unknown, expired or revoked (or its target gone)."""
    target = service.shared(database(), token)
    if target is None:
        return None
    return _flow_view(target) if target.execution is None else _execution_view(target)


def _flow_view(target: SharedTargetView) -> dict[str, Any]:
    nodes, edges, _ = graph_of(target.source)
    return {
        "kind": "flow",
        "namespace": target.namespace,
        "flow": target.flow_id,
        "revision": target.revision,
        "source": target.source,
        "nodes": nodes,
        "edges": edges,
    }


def _without_id(line: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in line.items() if key != "id"}  # a visitor gets no id of anything


def _execution_view(target: SharedTargetView) -> dict[str, Any]:
    from studio.services import executions as runs

    execution = target.execution
    latest, spans = runs.runs_and_spans(execution)
    nodes, edges, _ = graph_of(target.source)
    nodes = [{**n, **node_run_view(latest.get(n["id"]))} for n in nodes]
    return {
        "kind": "execution",
        "namespace": execution.namespace,
        "flow": execution.flow_id,
        "revision": execution.flow_revision,
        "state": execution.state,
        "created": execution.created_at,
        "duration_ms": execution.duration_ms,
        "running": execution.state not in TERMINAL,
        "error": execution.error or "",
        "nodes": nodes,
        "edges": edges,
        "spans": spans,
        "logs": [_without_id(line) for line in runs.log_rows(execution.id, limit=5000)],
    }
