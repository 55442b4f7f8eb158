"""API tokens: long random secrets a program sends instead of a password, each tied to one user.

The plain token is shown once, when it is made; only its sha256 digest is kept (engine/store/hashed_tokens.py).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlmodel import Session

from engine.core.errors import NotFound
from engine.identity import audit, lifetimes
from engine.identity.lifetimes import is_live
from engine.store import tokens as store
from engine.store import users as user_store
from engine.store.hashed_tokens import Holder, digest, holder_of
from engine.store.tables import ApiToken, User, utcnow

TOKEN_PREFIX = "lnr_"  # noqa: S105 - the visible start of every token, not a secret
SHOWN_PREFIX_LENGTH = 8
# Writing last_used_at on every request would turn each read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenNotFound(NotFound):
    pass


def create_token(
    session: Session,
    user: User,
    name: str,
    *,
    actor: str,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row, and the plain token, which cannot be read again later."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(plain),
        prefix=plain[:SHOWN_PREFIX_LENGTH],
        expires_at=expires_at,
    )
    store.add_token(session, token)
    expires = expires_at.isoformat() if expires_at else None
    audit.record_about_user(
        session, actor, audit.AuditAction.TOKEN_CREATED, user.username, token_id=token.id, name=name, expires_at=expires
    )
    return token, plain


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return store.tokens_of(session, user.id)


def revoke_token(session: Session, token_id: int, *, actor: str) -> ApiToken:
    token = store.get_token(session, token_id)
    if token is None:
        raise TokenNotFound(f"no token {token_id}")
    if lifetimes.revoke(token):
        store.save_token(session, token)
        owner = user_store.user_by_id(session, token.user_id)
        audit.record_about_user(session, actor, audit.AuditAction.TOKEN_REVOKED, owner.username, token_id=token.id)
    return token


def holder_of_token(session: Session, plain: str, *, now: dt.datetime | None = None) -> Holder | None:
    """Who a valid token belongs to, with their roles, or None (unknown, revoked, expired, or its user disabled);
    its last use is written once a minute at most."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    holder = holder_of(session, ApiToken, plain)
    if holder is None or not is_live(holder, now) or holder.disabled:
        return None
    now = now or utcnow()
    if holder.last_used_at is None or now - holder.last_used_at >= LAST_USED_RESOLUTION:
        store.mark_used(session, holder.row_id, now)
    return holder
