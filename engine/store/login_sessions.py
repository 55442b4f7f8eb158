"""Studio sign-in sessions: the rows (only each cookie token's digest is kept). Rules: ``engine.identity.sessions``."""

from __future__ import annotations

from sqlmodel import Session, col, delete

from engine.store.hashed_tokens import digest
from engine.store.tables import LoginSession


def add_login_session(session: Session, row: LoginSession) -> LoginSession:
    session.add(row)
    session.flush()
    return row


def delete_login_session(session: Session, plain: str) -> bool:
    """False when no session had this token."""
    result = session.exec(delete(LoginSession).where(col(LoginSession.token_hash) == digest(plain)))
    return bool(result.rowcount)


def delete_login_sessions_of(session: Session, user_id: int) -> None:
    session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user_id))
