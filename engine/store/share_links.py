"""Share links: the rows (only each link token's digest is kept).

Making and checking them: ``engine.identity.share_links``."""

from __future__ import annotations

from sqlmodel import Session, select

from engine.store.hashed_tokens import find_by_token
from engine.store.tables import ShareLink


def add_share_link(session: Session, link: ShareLink) -> ShareLink:
    session.add(link)
    session.flush()
    return link


def get_share_link(session: Session, link_id: int) -> ShareLink | None:
    return session.get(ShareLink, link_id)


def find_share_link(session: Session, plain: str) -> ShareLink | None:
    return find_by_token(session, ShareLink, plain)


def save_share_link(session: Session, link: ShareLink) -> None:
    """Keep the changes made to ``link`` (written when the transaction commits)."""
    session.add(link)


def share_links_to(session: Session, kind: str, namespace: str, target_id: str) -> list[ShareLink]:
    """Every link ever made to a target, revoked and expired ones included, oldest first."""
    statement = (
        select(ShareLink)
        .where(ShareLink.kind == kind, ShareLink.namespace == namespace, ShareLink.target_id == target_id)
        .order_by(ShareLink.id)
    )
    return list(session.exec(statement))
