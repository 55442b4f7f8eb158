"""Who is a member of a namespace, for the studio's namespace page: list, invite, change a role, remove.

Everyone who may read a namespace sees its members; its administrators (``Action.MANAGE_MEMBERS``) change
them. A grant on a parent namespace also holds here (``engine/identity/policy.py``), so the list shows those too,
with the namespace they come from; they are changed on that namespace, not this one.
"""

from __future__ import annotations

from engine.core.namespaces import ancestors
from engine.identity import authz, users
from engine.identity.policy import Action, Principal, Role
from engine.store.database import session_scope
from engine.store.tables import User
from studio.services import database

ROLES = [role.value for role in Role]  # viewer, operator, editor, admin: the choices of the role selector


def members(principal: Principal, namespace: str) -> list[dict[str, str]]:
    """Grants on ``namespace`` itself, then those inherited from each parent (the nearest first).

    Each row: username, role, origin (the namespace granted on) and own ("True" when granted here)."""
    authz.require(principal, Action.READ, namespace)
    rows: list[dict[str, str]] = []
    with session_scope(database()) as session:
        for origin in reversed(ancestors(namespace)):
            rows += [
                {"username": name, "role": role.value, "origin": origin, "own": str(origin == namespace)}
                for name, role in users.members(session, origin)
            ]
    return rows


def _user(session, username: str) -> User:
    try:
        return users.get_user(session, username.strip())
    except users.UserNotFound:
        raise users.UserError(f"no user {username.strip() or '(empty)'}: an administrator creates accounts") from None


def set_role(principal: Principal, namespace: str, username: str, role: str) -> None:
    """Invite ``username`` with ``role``, or change the role they have on ``namespace``.

    Raises ``users.UserError`` (a ``ValueError``) for an unknown user, a bad role or namespace."""
    authz.require(principal, Action.MANAGE_MEMBERS, namespace)
    with session_scope(database()) as session:
        users.grant(session, _user(session, username), namespace, role, actor=principal.name)


def remove(principal: Principal, namespace: str, username: str) -> None:
    """Take away the role ``username`` has on exactly ``namespace`` (grants on parents stay)."""
    authz.require(principal, Action.MANAGE_MEMBERS, namespace)
    with session_scope(database()) as session:
        if not users.revoke(session, _user(session, username), namespace, actor=principal.name):
            raise users.UserError(f"{username} has no role on {namespace}")
