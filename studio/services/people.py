"""People for the studio: user management (global administrators only) and a person's own account and tokens.

Every function takes the principal who acts as its first parameter and calls ``engine.services.people``, which
checks it (user management is for global administrators only, checked before anything is read) and audits; the
account functions act only on the principal's own user. It hands typed views to the users and account pages,
which word them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.identity import lifetimes, users
from engine.identity.policy import Principal, Role
from engine.services import people as service
from engine.services.workspace_views import TokenView, UserView
from studio.services import database

ROLES = [role.value for role in Role]
MAX_TOKEN_DAYS = 3650  # as the API allows


@dataclass
class MembershipRow:
    namespace: str
    role: str


@dataclass
class Person:
    """A user account, typed (the users and account pages word it)."""

    username: str
    display_name: str
    is_admin: bool
    disabled: bool
    last_sign_in_at: dt.datetime | None  # None: never signed in
    memberships: list[MembershipRow] = field(default_factory=list)


@dataclass
class PersonalToken:
    """A personal API token, typed; ``prefix`` is its first characters only (never its value)."""

    id: int
    name: str
    prefix: str
    created_at: dt.datetime | None
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None  # None: until revoked
    revoked_at: dt.datetime | None
    active: bool


def _user_row(user: UserView) -> Person:
    return Person(
        username=user.username,
        display_name=user.display_name or "",
        is_admin=user.is_admin,
        disabled=user.disabled,
        last_sign_in_at=user.last_login_at,
        memberships=[MembershipRow(m.namespace, m.role.value) for m in user.memberships],
    )


# --- users: global administrators only --------------------------------------------------------------------


def list_users(principal: Principal) -> list[Person]:
    return [_user_row(user) for user in service.list_users(database(), principal)]


def create_user(principal: Principal, username: str, password: str, *, is_admin: bool = False) -> None:
    """Raises ``users.UserError`` (a ``ValueError``) for a bad or taken username or a short password."""
    service.create_user(database(), principal, username.strip().lower(), password, is_admin=is_admin)


def set_disabled(principal: Principal, username: str, disabled: bool) -> None:
    """Disable (or enable) an account; disabling also signs the person out of every browser at once."""
    service.set_disabled(database(), principal, username, disabled)


def reset_password(principal: Principal, username: str, password: str) -> None:
    service.reset_password(database(), principal, username, password)


def grant(principal: Principal, username: str, namespace: str, role: str) -> None:
    """Give ``username`` ``role`` on ``namespace`` (replacing the role they had there)."""
    service.grant(database(), principal, username, namespace.strip(), role)


def remove_membership(principal: Principal, username: str, namespace: str) -> None:
    if not service.remove_membership(database(), principal, username, namespace):
        raise users.UserError(f"{username} has no role on {namespace}")


# --- the signed-in person's own account -------------------------------------------------------------------


def account(principal: Principal) -> Person:
    return _user_row(service.account(database(), principal))


def _token_row(token: TokenView) -> PersonalToken:
    return PersonalToken(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        active=token.active,
    )


def my_tokens(principal: Principal) -> list[PersonalToken]:
    """The person's own tokens, newest first, revoked and expired ones included (never their values)."""
    return [_token_row(token) for token in reversed(service.tokens_of(database(), principal))]


def create_token(principal: Principal, name: str, days: int | None = None) -> str:
    """A new personal token, valid ``days`` days (None: until revoked); returns the plain token, shown once."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValueError("a token needs a name (at most 100 characters)")
    if days is not None and not 1 <= int(days) <= MAX_TOKEN_DAYS:
        raise ValueError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days, or until revoked")
    expires = lifetimes.now() + dt.timedelta(days=int(days)) if days else None
    return service.create_token(database(), principal, name, expires_at=expires).token or ""


def revoke_token(principal: Principal, token_id: int) -> None:
    """Revoke one of the person's own tokens; anyone else's is answered like a missing one."""
    service.revoke_token(database(), principal, token_id)


def change_password(principal: Principal, current: str, new: str, again: str) -> None:
    """Change the person's own password after checking the current one."""
    if new != again:
        raise ValueError("the new passwords differ")
    service.change_password(database(), principal, current, new)
