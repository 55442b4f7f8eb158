"""API tokens: the rows (only each token's digest is kept). Making and checking them: ``engine.identity.tokens``."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select, update

from engine.store.tables import ApiToken


def add_token(session: Session, token: ApiToken) -> ApiToken:
    session.add(token)
    session.flush()
    return token


def get_token(session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def mark_used(session: Session, token_id: int, at: dt.datetime) -> None:
    session.connection().execute(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=at))


def save_token(session: Session, token: ApiToken) -> None:
    """Keep the changes made to ``token`` (written when the transaction commits)."""
    session.add(token)


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))
