"""Users: accounts, their roles on namespaces, disabling and password resets, for global administrators only.

Passwords travel in form submissions straight to the handler and are never kept in the page's state.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import reflex as rx

from engine.identity import authz
from studio import display
from studio.services import people
from studio.services.people import MembershipRow, Person
from studio.session import SessionState


@dataclass
class UserRow:
    """An account as the users page shows it."""

    username: str
    display_name: str
    is_admin: bool
    disabled: bool
    last_sign_in: str
    memberships: list[MembershipRow] = field(default_factory=list)

    @classmethod
    def of(cls, person: Person) -> "UserRow":
        last = display.when(person.last_sign_in_at, seconds=False, missing=display.NEVER)
        return cls(person.username, person.display_name, person.is_admin, person.disabled, last, person.memberships)


def _users(principal) -> list[UserRow]:
    return [UserRow.of(person) for person in people.list_users(principal)]


class UsersState(SessionState):
    users: list[UserRow] = []
    refused: str = ""
    error: str = ""
    notice: str = ""

    @rx.event
    def load(self) -> None:
        principal = self.principal()
        self.error = self.notice = ""
        try:
            self.users, self.refused = _users(principal), ""
        except authz.Forbidden as exc:  # a notice on the page rather than a toast: the page has nothing else
            self.users, self.refused = [], str(exc)

    def _do(self, action: Callable, done: str) -> None:
        """Run ``action(principal)``; a refusal propagates (the app shows it), a bad request becomes the error."""
        principal = self.principal()
        try:
            action(principal)
        except (ValueError, LookupError) as exc:
            self.error, self.notice = str(exc), ""
            return
        self.error, self.notice = "", done
        self.users = _users(principal)

    @rx.event
    def create_user(self, form: dict) -> None:
        username = str(form.get("username", "")).strip().lower()
        is_admin = form.get("is_admin") in ("on", True, "true")
        self._do(
            lambda p: people.create_user(p, username, str(form.get("password", "")), is_admin=is_admin),
            f"user {username} created",
        )

    @rx.event
    def set_disabled(self, username: str, disabled: bool) -> None:
        done = f"{username} {'disabled and signed out' if disabled else 'enabled'}"
        self._do(lambda p: people.set_disabled(p, username, disabled), done)

    @rx.event
    def reset_password(self, form: dict) -> None:
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        self._do(lambda p: people.reset_password(p, username, password), f"{username}'s password reset")

    @rx.event
    def grant(self, form: dict) -> None:
        username, namespace, role = (str(form.get(key, "")).strip() for key in ("username", "namespace", "role"))
        self._do(lambda p: people.grant(p, username, namespace, role), f"{username} is {role} on {namespace}")

    @rx.event
    def remove_membership(self, username: str, namespace: str) -> None:
        self._do(lambda p: people.remove_membership(p, username, namespace), f"{username} removed from {namespace}")
