"""Share links: read-only access to one flow or one execution for people without an account.

Like API tokens, the plain link token is shown once and only its sha256 digest is kept. A link grants no
role on any namespace: whoever serves it must show only its target (``ShareLink.kind`` and ``target_id``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum

from sqlmodel import Session

from engine.core.errors import NotFound
from engine.identity import audit, lifetimes
from engine.identity.lifetimes import is_live
from engine.store import share_links as store
from engine.store.hashed_tokens import digest
from engine.store.tables import ShareLink

LINK_PREFIX = "lns_"


class ShareKind(StrEnum):
    FLOW = "flow"
    EXECUTION = "execution"


class ShareLinkNotFound(NotFound):
    pass


def create_share_link(
    session: Session,
    kind: ShareKind,
    namespace: str,
    target_id: str,
    *,
    created_by: str,
    expires_at: dt.datetime | None,
    revision: int | None = None,
) -> tuple[ShareLink, str]:
    """A new link: the row, and the plain token, which cannot be read again later.

    ``expires_at`` has no default on purpose: whoever shares decides how long, None meaning "until revoked".
    """
    kind = ShareKind(kind)
    if revision is not None and kind is not ShareKind.FLOW:
        raise ValueError("only a flow link can be pinned to a revision")
    plain = LINK_PREFIX + secrets.token_urlsafe(32)
    link = ShareLink(
        token_hash=digest(plain),
        kind=kind.value,
        namespace=namespace,
        target_id=target_id,
        revision=revision,
        created_by=created_by,
        expires_at=expires_at,
    )
    store.add_share_link(session, link)
    audit.record(
        session,
        created_by,
        audit.AuditAction.SHARED,
        namespace,
        kind.value,
        target_id,
        link_id=link.id,
        revision=revision,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return link, plain


def resolve_share_link(session: Session, plain: str, *, now: dt.datetime | None = None) -> ShareLink | None:
    """The live link for this token, or None (unknown, revoked or expired)."""
    if not plain.startswith(LINK_PREFIX):
        return None
    link = store.find_share_link(session, plain)
    return link if is_live(link, now) else None


def share_links(session: Session, kind: ShareKind, namespace: str, target_id: str) -> list[ShareLink]:
    """Every link ever made to a target, revoked and expired ones included (to show and revoke them)."""
    return store.share_links_to(session, ShareKind(kind).value, namespace, target_id)


def revoke_share_link(session: Session, link_id: int, *, actor: str) -> ShareLink:
    link = store.get_share_link(session, link_id)
    if link is None:
        raise ShareLinkNotFound(f"no share link {link_id}")
    if lifetimes.revoke(link):
        store.save_share_link(session, link)
        audit.record(
            session, actor, audit.AuditAction.UNSHARED, link.namespace, link.kind, link.target_id, link_id=link.id
        )
    return link
