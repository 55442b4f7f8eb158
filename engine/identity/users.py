"""People who sign in: accounts, passwords, and their roles on namespaces (memberships).

Every change is recorded in the audit trail in the caller's transaction, by the ``actor`` who made it.
"""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session

from engine.core.errors import InvalidInput, NotFound
from engine.flows.spec import NAMESPACE_PATTERN
from engine.identity import audit
from engine.identity.policy import Principal, Role
from engine.store import users as store
from engine.store.hashed_tokens import Holder
from engine.store.tables import User, utcnow

MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.@-]{0,63}$"
_hasher = PasswordHasher()


class UserError(InvalidInput):
    """A request about users that cannot be done as asked; the message is meant for a person."""


class UserNotFound(NotFound):
    pass


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def _check_namespace(namespace: str) -> None:
    if len(namespace) > 150 or not re.fullmatch(NAMESPACE_PATTERN, namespace):
        raise UserError(f"'{namespace}' is not a namespace (lowercase words separated by dots, like acme.sales)")


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UserError(f"'{role}' is not a role: use one of {', '.join(Role)}") from None


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not anybody's password")


def get_user(session: Session, username: str) -> User:
    user = store.find_user(session, username)
    if user is None:
        raise UserNotFound(f"no user {username}")
    return user


def list_users(session: Session) -> list[User]:
    return store.list_users(session)


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    actor: str,
    display_name: str | None = None,
    is_admin: bool = False,
) -> User:
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise UserError(f"'{username}' is not a username (lowercase letters, digits and . _ @ -, at most 64)")
    if username in audit.RESERVED_ACTORS:
        raise UserError(f"'{username}' is reserved")  # the audit trail names non-people so
    _check_password(password)
    if store.username_taken(session, username):
        raise UserError(f"user {username} already exists")
    user = User(username=username, display_name=display_name, password_hash=_hasher.hash(password), is_admin=is_admin)
    store.add_user(session, user)  # the unique index still refuses a twin created at the same moment
    audit.record_about_user(session, actor, audit.AuditAction.CREATED, username, is_admin=is_admin)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The enabled user with this password, or None.

    An unknown name costs the same hashing work as a wrong password, so response times do not tell which
    usernames exist.
    """
    user = store.find_user(session, username)
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):  # hashing parameters were raised since it was set
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    store.save_user(session, user)
    return user


def set_password(session: Session, user: User, password: str, *, actor: str) -> None:
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    store.save_user(session, user)
    audit.record_about_user(session, actor, audit.AuditAction.PASSWORD_CHANGED, user.username)


def set_disabled(session: Session, user: User, disabled: bool, *, actor: str) -> None:
    """A disabled user cannot sign in and their tokens stop working; nothing of theirs is deleted."""
    user.disabled = disabled
    store.save_user(session, user)
    action = audit.AuditAction.DISABLED if disabled else audit.AuditAction.ENABLED
    audit.record_about_user(session, actor, action, user.username)


#: The studio's themes a person may choose: the system's preference (the default), or always light or dark.
THEMES = ("system", "light", "dark")


def set_theme(session: Session, user: User, theme: str) -> None:
    """Remember the person's studio theme (a preference: not audited)."""
    if theme not in THEMES:
        raise UserError(f"'{theme}' is not a theme: use one of {', '.join(THEMES)}")
    user.theme = None if theme == "system" else theme
    store.save_user(session, user)


def theme_of(user: User) -> str:
    return user.theme or "system"


def memberships(session: Session, user: User) -> dict[str, Role]:
    return {row.namespace: Role(row.role) for row in store.memberships_of(session, user.id)}


def members(session: Session, namespace: str) -> list[tuple[str, Role]]:
    """(username, role) granted on exactly ``namespace`` (grants on its parents also apply:
    engine/identity/policy.py)."""
    return [(username, Role(role)) for username, role in store.members_of(session, namespace)]


def principal_for(session: Session, user: User) -> Principal:
    return Principal(name=user.username, is_admin=user.is_admin, memberships=memberships(session, user))


def principal_of(holder: Holder) -> Principal:
    """The principal a sign-in token names (its holder read with the user's roles, in one statement)."""
    roles = {namespace: Role(role) for namespace, role in holder.memberships.items()}
    return Principal(name=holder.username, is_admin=holder.is_admin, memberships=roles)


def grant(session: Session, user: User, namespace: str, role: Role | str, *, actor: str) -> None:
    """Give ``user`` ``role`` on ``namespace`` (and so below it), replacing the role they had there."""
    _check_namespace(namespace)
    role = _role(role)
    before = store.set_membership(session, user.id, namespace, role.value)
    _membership_changed(session, actor, user, namespace, role.value, before)


def revoke(session: Session, user: User, namespace: str, *, actor: str) -> bool:
    """Take away ``user``'s role on exactly ``namespace``; False when they had none there."""
    before = store.delete_membership(session, user.id, namespace)
    if before is None:
        return False
    _membership_changed(session, actor, user, namespace, None, before)
    return True


def _membership_changed(
    session: Session, actor: str, user: User, namespace: str, role: str | None, before: str | None
) -> None:
    changed = audit.AuditAction.MEMBERSHIP_CHANGED
    audit.record_about_user(session, actor, changed, user.username, namespace=namespace, role=role, before=before)
