"""Who is using the studio, read from the session cookie of the websocket connection, and what they may reach.

Every studio page and event decides access through ``engine.identity.authz``, like the API: pages call
``principal_from_cookies`` (via ``studio.session.SessionState.principal``) and pass the principal to the
service functions, which check it with ``authz.require`` or filter their SQL with ``authz.readable``.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from sqlmodel import select

from engine.identity import authz
from engine.identity.policy import Principal
from engine.identity.sessions import COOKIE_NAME
from engine.store.database import session_scope
from engine.store.tables import Namespace
from studio.services import database


def session_token(cookie_header: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel else None


def principal_from_cookies(cookie_header: str) -> Principal:
    """The signed-in person (or the local administrator before any user exists); raises ``Unauthenticated``."""
    with session_scope(database()) as session:
        return authz.principal_from(session, cookie=session_token(cookie_header))


def sign_in_required() -> bool:
    with session_scope(database()) as session:
        return authz.sign_in_required(session)


def reachable_namespaces(principal: Principal) -> list[str]:
    """Every namespace the person may read, sorted: exactly what the sidebar offers them."""
    with session_scope(database()) as session:
        statement = select(Namespace.name).where(authz.readable(principal, Namespace.name)).order_by(Namespace.name)
        return list(session.exec(statement))
