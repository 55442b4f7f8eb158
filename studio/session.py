"""The signed-in person, shared by every page's state (they are substates of ``SessionState``).

Nothing about the person is trusted from the browser: each event reads the session cookie that came with the
websocket connection (server side) and asks ``engine.authz`` again, so signing out, a disabled account or a
removed role take effect at the next click, on every open tab.
"""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx
from reflex.app import default_backend_exception_handler

from engine import authz
from engine.access import Principal
from studio.services import access

ALL_NAMESPACES = "all namespaces"


class SessionState(rx.State):
    signed_in_as: str = ""
    signed_in_admin: bool = False
    sign_in_required: bool = False
    reachable: list[str] = [ALL_NAMESPACES]  # the sidebar of pages without their own namespace filter

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


def to_sign_in():
    """To the sign-in page, coming back to the page asked for (computed in the browser: the page's own load
    handlers may also refuse, and must send to the same place)."""
    return rx.call_script(
        "window.location.replace('/login?next='"
        " + encodeURIComponent(window.location.pathname + window.location.search))"
    )


def on_backend_error(exception: Exception):
    """The studio's one answer to refused access, raised by any event handler through ``engine.authz``."""
    if isinstance(exception, authz.Unauthenticated):
        return to_sign_in()
    if isinstance(exception, authz.Forbidden | authz.NotVisible):
        return rx.toast.error(str(exception), id="access-refused")
    return default_backend_exception_handler(exception)
