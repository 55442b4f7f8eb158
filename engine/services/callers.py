"""Who is asking: the person a bearer token or a sign-in cookie names (``engine.identity.authz`` decides).

Until the first user exists everyone is the local administrator, so every entry point asks here first.
"""

from __future__ import annotations

from sqlalchemy import Engine

from engine.identity import authz
from engine.identity.policy import Principal
from engine.store.database import session_scope


def principal(db: Engine, *, bearer: str | None = None, cookie: str | None = None) -> Principal:
    """The caller; ``Unauthenticated`` when sign-in is required and neither names an enabled user. A token's
    last use is written in passing (once a minute at most)."""
    with session_scope(db) as session:
        return authz.principal_from(session, bearer=bearer, cookie=cookie)


def sign_in_required(db: Engine) -> bool:
    """Whether anybody has an account yet: before the first one, nobody signs in."""
    with session_scope(db) as session:
        return authz.sign_in_required(session)
