"""People for the studio: user management (global administrators only) and a person's own account and tokens.

Every function takes the principal who acts as its first parameter. The user functions check it with
``authz.require(principal, Action.MANAGE_USERS, None)`` before they read anything, so a refused person learns
nothing about who exists; the account functions act only on the principal's own user.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session

from engine.identity import authz, tokens, users
from engine.identity import sessions as login_sessions
from engine.identity.policy import Action, Principal, Role
from engine.store.database import session_scope
from engine.store.tables import ApiToken, User, utcnow
from studio.services import database

ROLES = [role.value for role in Role]
MAX_TOKEN_DAYS = 3650  # as the API allows


@dataclass
class MembershipRow:
    namespace: str
    role: str


@dataclass
class UserRow:
    username: str
    display_name: str
    is_admin: bool
    disabled: bool
    last_sign_in: str
    memberships: list[MembershipRow] = field(default_factory=list)


@dataclass
class TokenRow:
    id: int
    name: str
    prefix: str
    created: str
    last_used: str
    expires: str
    revoked: str
    active: bool


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _manage(principal: Principal) -> None:
    authz.require(principal, Action.MANAGE_USERS, None)


def _memberships(session: Session, user: User) -> list[MembershipRow]:
    return [MembershipRow(name, role.value) for name, role in sorted(users.memberships(session, user).items())]


# --- users: global administrators only --------------------------------------------------------------------


def list_users(principal: Principal) -> list[UserRow]:
    _manage(principal)
    with session_scope(database()) as session:
        return [
            UserRow(
                username=user.username,
                display_name=user.display_name or "",
                is_admin=user.is_admin,
                disabled=user.disabled,
                last_sign_in=_when(user.last_login_at) or "never",
                memberships=_memberships(session, user),
            )
            for user in users.list_users(session)
        ]


def create_user(principal: Principal, username: str, password: str, *, is_admin: bool = False) -> None:
    """Raises ``users.UserError`` (a ``ValueError``) for a bad or taken username or a short password."""
    _manage(principal)
    with session_scope(database()) as session:
        users.create_user(session, username.strip().lower(), password, actor=principal.name, is_admin=is_admin)


def set_disabled(principal: Principal, username: str, disabled: bool) -> None:
    """Disable (or enable) an account; disabling also signs the person out of every browser at once."""
    _manage(principal)
    if disabled and username == principal.name:
        raise users.UserError("you cannot disable your own account")  # it would lock out the last admin too
    with session_scope(database()) as session:
        user = users.get_user(session, username)
        users.set_disabled(session, user, disabled, actor=principal.name)
        if disabled:
            login_sessions.close_sessions_of(session, user)


def reset_password(principal: Principal, username: str, password: str) -> None:
    _manage(principal)
    with session_scope(database()) as session:
        users.set_password(session, users.get_user(session, username), password, actor=principal.name)


def grant(principal: Principal, username: str, namespace: str, role: str) -> None:
    """Give ``username`` ``role`` on ``namespace`` (replacing the role they had there)."""
    _manage(principal)
    with session_scope(database()) as session:
        users.grant(session, users.get_user(session, username), namespace.strip(), role, actor=principal.name)


def remove_membership(principal: Principal, username: str, namespace: str) -> None:
    _manage(principal)
    with session_scope(database()) as session:
        if not users.revoke(session, users.get_user(session, username), namespace, actor=principal.name):
            raise users.UserError(f"{username} has no role on {namespace}")


# --- the signed-in person's own account -------------------------------------------------------------------


def _me(session: Session, principal: Principal) -> User:
    if principal is authz.LOCAL:
        raise users.UserError("no users yet: create the administrator first")
    return users.get_user(session, principal.name)


def account(principal: Principal) -> UserRow:
    with session_scope(database()) as session:
        user = _me(session, principal)
        return UserRow(
            username=user.username,
            display_name=user.display_name or "",
            is_admin=user.is_admin,
            disabled=user.disabled,
            last_sign_in=_when(user.last_login_at) or "never",
            memberships=_memberships(session, user),
        )


def _token_row(token: ApiToken, now: dt.datetime) -> TokenRow:
    expires = token.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)  # SQLite gives naive datetimes back
    expired = expires is not None and expires <= now
    return TokenRow(
        id=token.id,
        name=token.name,
        prefix=token.prefix + "…",
        created=_when(token.created_at),
        last_used=_when(token.last_used_at) or "never",
        expires=_when(token.expires_at) or "never",
        revoked=_when(token.revoked_at),
        active=token.revoked_at is None and not expired,
    )


def _now() -> dt.datetime:
    now = utcnow()
    return now if now.tzinfo else now.replace(tzinfo=dt.UTC)


def my_tokens(principal: Principal) -> list[TokenRow]:
    """The person's own tokens, newest first, revoked and expired ones included (never their values)."""
    now = _now()
    with session_scope(database()) as session:
        return [_token_row(token, now) for token in reversed(tokens.tokens_of(session, _me(session, principal)))]


def create_token(principal: Principal, name: str, days: int | None = None) -> str:
    """A new personal token, valid ``days`` days (None: until revoked); returns the plain token, shown once."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValueError("a token needs a name (at most 100 characters)")
    if days is not None and not 1 <= int(days) <= MAX_TOKEN_DAYS:
        raise ValueError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days, or until revoked")
    expires = utcnow() + dt.timedelta(days=int(days)) if days else None
    with session_scope(database()) as session:
        _, plain = tokens.create_token(session, _me(session, principal), name, actor=principal.name, expires_at=expires)
        return plain


def revoke_token(principal: Principal, token_id: int) -> None:
    """Revoke one of the person's own tokens; anyone else's is answered like a missing one."""
    with session_scope(database()) as session:
        found = session.get(ApiToken, int(token_id))
        if found is None or found.user_id != _me(session, principal).id:
            raise tokens.TokenNotFound(f"no token {token_id}")
        tokens.revoke_token(session, found.id, actor=principal.name)


def change_password(principal: Principal, current: str, new: str, again: str) -> None:
    """Change the person's own password after checking the current one."""
    if new != again:
        raise ValueError("the new passwords differ")
    with session_scope(database()) as session:
        user = users.authenticate(session, _me(session, principal).username, current)
        if user is None:
            raise ValueError("the current password is wrong")
        users.set_password(session, user, new, actor=principal.name)
