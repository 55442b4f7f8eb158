"""Share links: make, list and revoke them, and what a link's visitor may see.

Making, listing and revoking links is for the namespace's editors (``Action.SHARE``): a link shows the
namespace's work to people outside it. A visitor holds only a token: ``shared`` is the one function a token
reaches, and it returns its target alone. ``engine.identity.share_links`` audits each change.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from engine.core.errors import InvalidInput, NotFound
from engine.identity import authz, share_links
from engine.identity.policy import Action, Principal
from engine.identity.share_links import ShareKind
from engine.services.views import ExecutionView
from engine.services.workspace_views import SharedTargetView, ShareLinkView
from engine.store import executions as execution_store
from engine.store import flows as flow_store
from engine.store import share_links as store
from engine.store.database import session_scope
from engine.store.tables import utcnow

MAX_DAYS = 365


def _may_share(principal: Principal, kind: str, namespace: str, target_id: str) -> ShareKind:
    kind = ShareKind(kind)
    authz.require(principal, Action.SHARE, namespace, what=f"{kind.value} {namespace}/{target_id}")
    return kind


def create_link(
    db: Engine,
    principal: Principal,
    kind: str,
    namespace: str,
    target_id: str,
    *,
    revision: int | None = None,
    days: int = 7,
) -> ShareLinkView:
    """A new link to a flow (at ``revision``, or its newest) or an execution, valid ``days`` days (1 to 365);
    the view's ``path`` (``/share/<token>``) is shown this once only. ``NotFound`` for a missing target."""
    kind = _may_share(principal, kind, namespace, target_id)
    if not 1 <= int(days) <= MAX_DAYS:
        raise InvalidInput(f"a link lasts 1 to {MAX_DAYS} days, not {days}")
    with session_scope(db) as session:
        if kind is ShareKind.FLOW:
            if revision is None:
                flow_store.get_flow(session, namespace, target_id)
            else:
                flow_store.get_revision(session, namespace, target_id, revision)
        elif execution_store.get_execution(session, target_id).namespace != namespace:
            raise NotFound(f"no execution {target_id} in {namespace}")
        link, plain = share_links.create_share_link(
            session,
            kind,
            namespace,
            target_id,
            created_by=principal.name,
            expires_at=utcnow() + dt.timedelta(days=int(days)),
            revision=revision if kind is ShareKind.FLOW else None,
        )
        return ShareLinkView.of(link, plain)


def links(db: Engine, principal: Principal, kind: str, namespace: str, target_id: str) -> list[ShareLinkView]:
    """Every link ever made to this target, newest first, revoked and expired ones included."""
    kind = _may_share(principal, kind, namespace, target_id)
    with session_scope(db) as session:
        return [
            ShareLinkView.of(link) for link in reversed(share_links.share_links(session, kind, namespace, target_id))
        ]


def revoke(db: Engine, principal: Principal, link_id: int) -> None:
    """``NotVisible`` alike for an unknown link and one of a namespace the caller may not read."""
    with session_scope(db) as session:
        link = store.get_share_link(session, int(link_id))
        if link is None:
            raise authz.NotVisible(f"no share link {link_id}")
        authz.require(principal, Action.SHARE, link.namespace, what=f"share link {link_id}")
        share_links.revoke_share_link(session, link.id, actor=principal.name)


def shared(db: Engine, token: str) -> SharedTargetView | None:
    """What a link's visitor sees, read at one instant, or None when the token is unknown, expired or revoked
    (or its target was deleted since)."""
    with session_scope(db) as session:
        link = share_links.resolve_share_link(session, token)
        if link is None:
            return None
        try:
            if link.kind == ShareKind.FLOW.value:
                if link.revision is None:
                    record = flow_store.get_flow(session, link.namespace, link.target_id)
                    source, revision = record.source, record.revision
                else:
                    revision = link.revision
                    source = flow_store.get_revision(session, link.namespace, link.target_id, revision).source
                return SharedTargetView(
                    kind=link.kind, namespace=link.namespace, flow_id=link.target_id, revision=revision, source=source
                )
            execution = ExecutionView.of(*execution_store.execution_with_runs(session, link.target_id))
            if execution.namespace != link.namespace:
                return None
            found = flow_store.get_revision(session, execution.namespace, execution.flow_id, execution.flow_revision)
        except LookupError:  # the flow, revision or execution was deleted since
            return None
        return SharedTargetView(
            kind=link.kind,
            namespace=execution.namespace,
            flow_id=execution.flow_id,
            revision=execution.flow_revision,
            source=found.source,
            execution=execution,
        )
