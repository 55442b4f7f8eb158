"""Who is using the studio, read from the session cookie of the websocket connection, and what they may reach.

Every studio page and event decides access through ``engine.identity.authz``, like the API: pages call
``principal_from_cookies`` (via ``studio.session.SessionState.principal``) and pass the principal to the
service functions, whose ``engine/services`` check it once.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from engine.identity.policy import Principal
from engine.identity.sessions import COOKIE_NAME
from engine.services import callers, workspaces
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
    return callers.principal(database(), cookie=session_token(cookie_header))


def sign_in_required() -> bool:
    return callers.sign_in_required(database())


def reachable_namespaces(principal: Principal) -> list[str]:
    """Every namespace the person may read, sorted: exactly what the sidebar offers them."""
    return workspaces.namespace_names(database(), principal)
