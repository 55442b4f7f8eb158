"""The signed-in person's own account: their roles, personal API tokens, and password."""

from dataclasses import dataclass

import reflex as rx

from studio import display
from studio.services import people
from studio.services.people import MembershipRow, PersonalToken
from studio.session import SessionState


@dataclass
class TokenRow:
    """A personal token as the account page lists it (its first characters only, never its value)."""

    id: int
    name: str
    prefix: str
    created: str
    last_used: str
    expires: str
    revoked: str
    active: bool

    @classmethod
    def of(cls, token: PersonalToken) -> "TokenRow":
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix + "…",
            created=display.when(token.created_at, seconds=False),
            last_used=display.when(token.last_used_at, seconds=False, missing=display.NEVER),
            expires=display.when(token.expires_at, seconds=False, missing=display.NEVER),
            revoked=display.when(token.revoked_at, seconds=False),
            active=token.active,
        )


def _tokens(principal) -> list[TokenRow]:
    return [TokenRow.of(token) for token in people.my_tokens(principal)]


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
        self.tokens = _tokens(principal)
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
        self.tokens = _tokens(principal)

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
        self.tokens = _tokens(principal)

    @rx.event
    def change_password(self, form: dict) -> None:
        fields = [str(form.get(name, "")) for name in ("current", "new", "again")]
        try:
            people.change_password(self.principal(), *fields)
        except ValueError as exc:
            self._fail(exc)
            return
        self.error, self.notice = "", "password changed"
