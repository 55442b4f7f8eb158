"""The signed-in person, shared by every page's state (they are substates of ``SessionState``).

Nothing about the person is trusted from the browser: each event reads the session cookie that came with the
websocket connection (server side) and asks ``engine.identity.authz`` again, so signing out, a disabled account or a
removed role take effect at the next click, on every open tab.

Every page's state belongs to one sign-in: ``ForgetOtherSignIns`` empties all of them before any event of a
connection whose session cookie is not the one they were filled for (sign-out, then someone else signs in
in the same tab), so nothing one person saw is ever sent to the next.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import reflex as rx
from reflex.app import default_backend_exception_handler
from reflex.middleware import Middleware

from engine.identity import authz
from engine.identity.policy import Principal
from studio.services import access

ALL_NAMESPACES = "all namespaces"


class SessionState(rx.State):
    signed_in_as: str = ""
    signed_in_admin: bool = False
    sign_in_required: bool = False
    reachable: list[str] = [ALL_NAMESPACES]  # the sidebar of pages without their own namespace filter
    _sign_in: str = ""  # digest of the session cookie the states of this tab were filled for

    def principal(self) -> Principal:
        """Who sends this event; raises ``authz.Unauthenticated`` (the app then sends them to the sign-in page)."""
        return access.principal_from_cookies(self.router.headers.cookie)

    @rx.event
    def enter(self):
        """First handler of every page's ``on_load``: send strangers to sign in, and a fresh install to setup."""
        self.sign_in_required = access.sign_in_required()
        if not self.sign_in_required:
            return rx.redirect("/setup")
        try:
            principal = self.principal()
        except authz.Unauthenticated:
            return to_sign_in()
        self.signed_in_as, self.signed_in_admin = principal.name, principal.is_admin
        self.reachable = [ALL_NAMESPACES, *access.reachable_namespaces(principal)]
        return None

    @rx.event
    def open_namespace(self, namespace: str):
        """The sidebar's choice on a page about one thing (a flow, an execution): that namespace's flows."""
        return rx.redirect("/flows" if namespace == ALL_NAMESPACES else f"/flows?namespace={quote(namespace)}")


def sign_in_of(cookie_header: str) -> str:
    """Which sign-in a connection belongs to: a digest of its session cookie ("" when signed out)."""
    token = access.session_token(cookie_header)
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


def _page_state_classes(cls: type[rx.State] = SessionState) -> list[type[rx.State]]:
    found = [cls]
    for substate in cls.get_substates():
        found += _page_state_classes(substate)
    return found


class ForgetOtherSignIns(Middleware):
    """Before each event: when the connection's sign-in is not the one the page states were filled for, reset
    every page's state (loaded first, whatever the state manager keeps in memory) so the snapshot sent next
    holds nothing of the previous person."""

    async def preprocess(self, app: Any, state: Any, event: Any) -> None:
        session = await state.get_state(SessionState)
        current = sign_in_of(state.router.headers.cookie)
        if session._sign_in == current:
            return None
        for cls in _page_state_classes():
            await state.get_state(cls)
        session.reset()
        session._sign_in = current
        return None


def to_sign_in():
    """To the sign-in page, coming back to the page asked for (computed in the browser: the page's own load
    handlers may also refuse, and must send to the same place)."""
    return rx.call_script(
        "window.location.replace('/login?next='"
        " + encodeURIComponent(window.location.pathname + window.location.search))"
    )


def on_backend_error(exception: Exception):
    """The studio's one answer to refused access, raised by any event handler through ``engine.identity.authz``."""
    if isinstance(exception, authz.Unauthenticated):
        return to_sign_in()
    if isinstance(exception, authz.Forbidden | authz.NotVisible):
        return rx.toast.error(str(exception), id="access-refused")
    return default_backend_exception_handler(exception)
