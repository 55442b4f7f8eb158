"""What API routes share: the connections (opened once per process) and who is calling."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from engine import authz
from engine.access import Principal
from engine.commands import Connections
from engine.config import load_settings
from engine.connection import connect
from engine.login_sessions import COOKIE_NAME
from engine.store.database import open_database


@functools.cache
def connections() -> Connections:
    settings = load_settings()
    if not settings.redis_url:
        raise RuntimeError("the API needs LANNER_REDIS_URL (lanner server and lanner api set it)")
    return Connections(open_database(settings.database_url), connect(settings.redis_url))


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value else None


def current_principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer`` or the studio's session cookie (401 when neither is valid)."""
    with Session(connections().db) as session:
        principal = authz.principal_from(session, bearer=bearer_token(request), cookie=request.cookies.get(COOKIE_NAME))
        session.commit()  # a token's last use
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def actor(principal: Principal, fallback: str = "api") -> str:
    """The name the audit trail records: the person, or ``fallback`` on a local install without users."""
    return fallback if principal is authz.LOCAL else principal.name
