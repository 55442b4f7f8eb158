"""Studio sign-in sessions: the browser keeps a random token in an HttpOnly cookie; only its digest is stored.

Signing out deletes the row, so a copied cookie stops working at once; disabling a user ends their sessions too.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlmodel import Session

from engine.identity import audit
from engine.identity.lifetimes import is_live
from engine.store import login_sessions as store
from engine.store.hashed_tokens import Holder, digest, holder_of
from engine.store.tables import LoginSession, User, utcnow

COOKIE_NAME = "lanner_session"
SESSION_PREFIX = "lss_"
LIFETIME = dt.timedelta(hours=12)


def open_session(session: Session, user: User, *, client: str | None = None) -> tuple[LoginSession, str]:
    """A new session for ``user``: the row and the plain token for the cookie (not kept anywhere)."""
    plain = SESSION_PREFIX + secrets.token_urlsafe(32)
    row = LoginSession(
        user_id=user.id,
        token_hash=digest(plain),
        expires_at=utcnow() + LIFETIME,
        client=(client or "")[:200] or None,
    )
    store.add_login_session(session, row)
    audit.record_about_user(session, user.username, audit.AuditAction.LOGIN, user.username, client=client)
    return row, plain


def holder_of_session(session: Session, plain: str, *, now: dt.datetime | None = None) -> Holder | None:
    """Who an unexpired session token belongs to, with their roles, or None (unknown, expired, user disabled)."""
    if not plain or not plain.startswith(SESSION_PREFIX):
        return None
    holder = holder_of(session, LoginSession, plain)
    return holder if holder is not None and is_live(holder, now) and not holder.disabled else None


def close_session(session: Session, plain: str) -> bool:
    """Sign out: the token stops working. False when it was not a live session."""
    return store.delete_login_session(session, plain)


def close_sessions_of(session: Session, user: User) -> None:
    store.delete_login_sessions_of(session, user.id)
