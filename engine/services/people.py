"""People: accounts and their roles (global administrators only), and a person's own account and tokens.

Managing users needs ``Action.MANAGE_USERS``, checked before anything is read, so a refused person learns nothing
about who exists. The account functions act on the caller's own user; an administrator may also act on
someone else's tokens where the adapter asks for it (the API's and the CLI's token revocation).
``engine.identity`` audits each change in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import Session

from engine.core.errors import Conflict, InvalidInput
from engine.identity import authz, tokens, users
from engine.identity import sessions as login_sessions
from engine.identity.policy import Action, Principal, Role
from engine.services.workspace_views import TokenView, UserView
from engine.store import tokens as token_store
from engine.store.database import session_scope
from engine.store.tables import User

NO_USERS_YET = "no users yet: create the administrator first (lanner user create --admin)"


class NoUsersYet(Conflict):
    """A personal action (an account, a token) asked on a local install without users."""


def _manage(principal: Principal) -> None:
    authz.require(principal, Action.MANAGE_USERS, None)


def _view(session: Session, user: User) -> UserView:
    return UserView.of(user, users.memberships(session, user))


# --- users: global administrators only --------------------------------------------------------------------


def list_users(db: Engine, principal: Principal) -> list[UserView]:
    """Every user, by username, with their roles."""
    _manage(principal)
    with session_scope(db) as session:
        return [_view(session, user) for user in users.list_users(session)]


def create_user(
    db: Engine,
    principal: Principal,
    username: str,
    password: str,
    *,
    is_admin: bool = False,
    display_name: str | None = None,
    actor: str | None = None,
) -> UserView:
    """``users.UserError`` (an ``InvalidInput``) for a bad or taken username or a short password."""
    _manage(principal)
    with session_scope(db) as session:
        user = users.create_user(
            session, username, password, actor=actor or principal.name, display_name=display_name, is_admin=is_admin
        )
        return _view(session, user)


def set_disabled(db: Engine, principal: Principal, username: str, disabled: bool, *, actor: str | None = None) -> None:
    """Disable (or enable) an account; disabling also signs the person out of every browser at once."""
    _manage(principal)
    if disabled and username == principal.name and principal is not authz.LOCAL:
        raise users.UserError("you cannot disable your own account")  # it would lock out the last admin too
    with session_scope(db) as session:
        user = users.get_user(session, username)
        users.set_disabled(session, user, disabled, actor=actor or principal.name)
        if disabled:
            login_sessions.close_sessions_of(session, user)


def reset_password(db: Engine, principal: Principal, username: str, password: str, *, actor: str | None = None) -> None:
    _manage(principal)
    with session_scope(db) as session:
        users.set_password(session, users.get_user(session, username), password, actor=actor or principal.name)


def grant(
    db: Engine, principal: Principal, username: str, namespace: str, role: Role | str, *, actor: str | None = None
) -> None:
    """Give ``username`` ``role`` on ``namespace`` (replacing the role they had there), from the user's side:
    ``UserNotFound`` for an unknown user, ``UserError`` for a bad namespace or role."""
    _manage(principal)
    with session_scope(db) as session:
        users.grant(session, users.get_user(session, username), namespace, role, actor=actor or principal.name)


def remove_membership(
    db: Engine, principal: Principal, username: str, namespace: str, *, actor: str | None = None
) -> bool:
    """Take away ``username``'s role on exactly ``namespace``; False when they had none there."""
    _manage(principal)
    with session_scope(db) as session:
        return users.revoke(session, users.get_user(session, username), namespace, actor=actor or principal.name)


# --- a person's own account, and tokens --------------------------------------------------------------------


def _me(session: Session, principal: Principal) -> User:
    if principal is authz.LOCAL:
        raise NoUsersYet(NO_USERS_YET)
    return users.get_user(session, principal.name)


def _owner(session: Session, principal: Principal, username: str | None) -> User:
    """The caller's own user, or ``username``'s for a user administrator."""
    if username is None:
        return _me(session, principal)
    if username != principal.name:
        _manage(principal)
    return users.get_user(session, username)


def account(db: Engine, principal: Principal) -> UserView:
    """The caller's own account with their roles; ``NoUsersYet`` on a local install without users."""
    with session_scope(db) as session:
        return _view(session, _me(session, principal))


def change_password(db: Engine, principal: Principal, current: str, new: str) -> None:
    """Change the caller's own password after checking the current one."""
    with session_scope(db) as session:
        user = users.authenticate(session, _me(session, principal).username, current)
        if user is None:
            raise InvalidInput("the current password is wrong")
        users.set_password(session, user, new, actor=principal.name)


def theme(db: Engine, principal: Principal) -> str:
    """The caller's studio theme: ``system`` (the default), ``light`` or ``dark``; ``system`` without users."""
    if principal is authz.LOCAL:
        return "system"
    with session_scope(db) as session:
        return users.theme_of(_me(session, principal))


def set_theme(db: Engine, principal: Principal, theme: str) -> None:
    """Remember the caller's studio theme (``users.THEMES``); a wrong name is refused."""
    with session_scope(db) as session:
        users.set_theme(session, _me(session, principal), theme)


def tokens_of(db: Engine, principal: Principal, username: str | None = None) -> list[TokenView]:
    """The caller's own tokens (or ``username``'s, for a user administrator), oldest first, revoked and expired
    ones included (never their values)."""
    with session_scope(db) as session:
        owner = _owner(session, principal, username)
        return [TokenView.of(token, owner.username) for token in tokens.tokens_of(session, owner)]


def create_token(
    db: Engine,
    principal: Principal,
    name: str,
    *,
    expires_at: dt.datetime | None = None,
    username: str | None = None,
    actor: str | None = None,
) -> TokenView:
    """A new personal token for the caller (or ``username``, for a user administrator); the view holds its
    plain value, shown this once only."""
    with session_scope(db) as session:
        owner = _owner(session, principal, username)
        made, plain = tokens.create_token(session, owner, name, actor=actor or principal.name, expires_at=expires_at)
        return TokenView.of(made, owner.username, plain)


def revoke_token(
    db: Engine, principal: Principal, token_id: int, *, any_owner: bool = False, actor: str | None = None
) -> None:
    """Revoke one of the caller's own tokens, or with ``any_owner`` anybody's when the caller is an administrator
    (the API's and the CLI's).
    Someone else's token is answered like a missing one (``TokenNotFound``)."""
    with session_scope(db) as session:
        found = token_store.get_token(session, int(token_id))
        allowed = any_owner and principal.is_admin
        if found is None or not (allowed or found.user_id == _me(session, principal).id):
            raise tokens.TokenNotFound(f"no token {token_id}")
        tokens.revoke_token(session, found.id, actor=actor or principal.name)
