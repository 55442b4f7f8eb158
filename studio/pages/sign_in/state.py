"""Sign-in and first-start pages. Both are plain HTML forms posted to the API (``/api/v1/auth/...``): the
password goes straight to the server, which answers with an HttpOnly session cookie and a redirect."""

import reflex as rx

from studio.services import access


class SignInState(rx.State):
    error: str = ""
    next_path: str = "/flows"

    @rx.event
    def load_login(self):
        if not access.sign_in_required():
            return rx.redirect("/setup")
        params = self.router.page.params
        self.error = params.get("error", "")
        self.next_path = params.get("next", "/flows") or "/flows"
        return None

    @rx.event
    def load_setup(self):
        if access.sign_in_required():
            return rx.redirect("/login")
        self.error = self.router.page.params.get("error", "")
        return None
