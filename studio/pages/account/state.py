"""The signed-in person's own account: their roles, personal API tokens, and password."""

import reflex as rx

from studio.services import people
from studio.services.people import MembershipRow, TokenRow
from studio.session import SessionState


class AccountState(SessionState):
    username: str = ""
    memberships: list[MembershipRow] = []
    tokens: list[TokenRow] = []
    new_token: str = ""  # the plain token just made: shown until the person leaves or dismisses it, never again
    error: str = ""
    notice: str = ""

    @rx.event
    def load(self) -> None:
        principal = self.principal()
        me = people.account(principal)
        self.username, self.memberships = me.username, me.memberships
        self.tokens = people.my_tokens(principal)
        self.new_token = self.error = self.notice = ""

    def _fail(self, exc: Exception) -> None:
        self.error, self.notice = str(exc), ""

    @rx.event
    def create_token(self, form: dict) -> None:
        principal = self.principal()
        days_text = str(form.get("days", "")).strip()
        try:
            days = int(days_text) if days_text else None
            self.new_token = people.create_token(principal, str(form.get("name", "")), days)
        except ValueError as exc:
            self._fail(exc)
            return
        self.error, self.notice = "", ""
        self.tokens = people.my_tokens(principal)

    @rx.event
    def dismiss_token(self) -> None:
        self.new_token = ""

    @rx.event
    def revoke_token(self, token_id: int) -> None:
        principal = self.principal()
        try:
            people.revoke_token(principal, token_id)
        except LookupError as exc:
            self._fail(exc)
            return
        self.error, self.notice = "", "token revoked"
        self.tokens = people.my_tokens(principal)

    @rx.event
    def change_password(self, form: dict) -> None:
        fields = [str(form.get(name, "")) for name in ("current", "new", "again")]
        try:
            people.change_password(self.principal(), *fields)
        except ValueError as exc:
            self._fail(exc)
            return
        self.error, self.notice = "", "password changed"
