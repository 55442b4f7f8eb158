"""Share links for the studio: make, list and revoke them, and what a link's visitor may see.

A visitor holds only a token. ``shared_view`` is the one function a token reaches, and it returns its target
alone: a flow's text and canvas, or an execution's header, task states, Gantt spans and logs. It returns no id
of anything else (no parent execution, no task run ids, no inputs, outputs or trigger) and offers no action.

Making, listing and revoking links is for the namespace's editors (``Action.SHARE``): a link shows the
namespace's work to people outside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.core.states import TERMINAL
from engine.identity import authz, share_links
from engine.identity.policy import Action, Principal
from engine.identity.share_links import ShareKind
from engine.services.views import ExecutionView
from engine.store import executions as execution_store
from engine.store import flows as flow_store
from engine.store.database import session_scope
from engine.store.tables import ShareLink, utcnow
from studio.services import database, graph_of, node_run_view

MAX_DAYS = 365


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _row(link: ShareLink, now: dt.datetime) -> dict[str, Any]:
    expires = link.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)  # SQLite gives naive datetimes back
    expired = expires is not None and expires <= now
    status = "revoked" if link.revoked_at else "expired" if expired else "active"
    return {
        "id": link.id,
        "shown": f"{share_links.LINK_PREFIX}… #{link.id}",  # only the digest is kept: the token cannot be shown
        "created": _when(link.created_at),
        "expires": _when(link.expires_at) or "never",
        "revoked": _when(link.revoked_at),
        "revision": "" if link.revision is None else str(link.revision),
        "status": status,
        "active": status == "active",
    }


def _now() -> dt.datetime:
    now = utcnow()
    return now if now.tzinfo else now.replace(tzinfo=dt.UTC)


def _may_share(principal: Principal, kind: str, namespace: str, target_id: str) -> None:
    authz.require(principal, Action.SHARE, namespace, what=f"{ShareKind(kind).value} {namespace}/{target_id}")


def create_link(
    principal: Principal, kind: str, namespace: str, target_id: str, revision: int | None = None, days: int = 7
) -> tuple[str, dict[str, Any]]:
    """A new link valid ``days`` days (1 to 365): its URL path (``/share/<token>``, shown once) and its row."""
    _may_share(principal, kind, namespace, target_id)
    if not 1 <= int(days) <= MAX_DAYS:
        raise ValueError(f"a link lasts 1 to {MAX_DAYS} days, not {days}")
    kind = ShareKind(kind)
    with session_scope(database()) as session:
        if kind is ShareKind.FLOW:
            if revision is None:
                flow_store.get_flow(session, namespace, target_id)
            else:
                flow_store.get_revision(session, namespace, target_id, revision)
        else:
            execution = execution_store.get_execution(session, target_id)
            if execution.namespace != namespace:
                raise LookupError(f"no execution {target_id} in {namespace}")
        link, plain = share_links.create_share_link(
            session,
            kind,
            namespace,
            target_id,
            created_by=principal.name,
            expires_at=utcnow() + dt.timedelta(days=int(days)),
            revision=revision if kind is ShareKind.FLOW else None,
        )
        return f"/share/{plain}", _row(link, _now())


def links(principal: Principal, kind: str, namespace: str, target_id: str) -> list[dict[str, Any]]:
    """Every link ever made to this target, newest first, revoked and expired ones included."""
    _may_share(principal, kind, namespace, target_id)
    now = _now()
    with session_scope(database()) as session:
        found = share_links.share_links(session, ShareKind(kind), namespace, target_id)
        return [_row(link, now) for link in reversed(found)]


def revoke(principal: Principal, link_id: int) -> None:
    """Raises ``NotVisible`` alike for an unknown link and one of a namespace the person may not read."""
    with session_scope(database()) as session:
        link = session.get(ShareLink, int(link_id))
        if link is None:
            raise authz.NotVisible(f"no share link {link_id}")
        authz.require(principal, Action.SHARE, link.namespace, what=f"share link {link_id}")
        share_links.revoke_share_link(session, link.id, actor=principal.name)


def shared_view(token: str) -> dict[str, Any] | None:
    """What a link's visitor sees, or None when the token is unknown, expired or revoked (or its target gone)."""
    with session_scope(database()) as session:
        link = share_links.resolve_share_link(session, token)
        if link is None:
            return None
        try:
            if link.kind == ShareKind.FLOW.value:
                return _flow_view(session, link)
            return _execution_view(session, link)
        except LookupError:  # the flow, revision or execution was deleted since
            return None


def _flow_view(session, link: ShareLink) -> dict[str, Any]:
    if link.revision is None:
        record = flow_store.get_flow(session, link.namespace, link.target_id)
        source, revision = record.source, record.revision
    else:
        revision = link.revision
        source = flow_store.get_revision(session, link.namespace, link.target_id, revision).source
    nodes, edges, _ = graph_of(source)
    return {
        "kind": "flow",
        "namespace": link.namespace,
        "flow": link.target_id,
        "revision": str(revision),
        "source": source,
        "nodes": nodes,
        "edges": edges,
    }


def _execution_view(session, link: ShareLink) -> dict[str, Any]:
    from studio.services import executions as runs

    execution = ExecutionView.of(*execution_store.execution_with_runs(session, link.target_id))  # one instant
    if execution.namespace != link.namespace:
        raise LookupError(link.target_id)
    source = flow_store.get_revision(session, execution.namespace, execution.flow_id, execution.flow_revision).source
    latest, spans = runs.runs_and_spans(execution)
    nodes, edges, _ = graph_of(source)
    nodes = [{**n, **node_run_view(latest.get(n["id"]))} for n in nodes]
    return {
        "kind": "execution",
        "namespace": execution.namespace,
        "flow": execution.flow_id,
        "revision": str(execution.flow_revision),
        "state": execution.state,
        "created": _when(execution.created_at),
        "duration": runs._duration(execution.duration_ms),
        "running": execution.state not in TERMINAL,
        "error": execution.error or "",
        "nodes": nodes,
        "edges": edges,
        "spans": spans,
        "logs": [{"level": line["level"], "text": line["text"]} for line in runs.log_rows(execution.id, limit=5000)],
    }
