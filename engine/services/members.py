"""Who is a member of a namespace, and with which role: list, invite or change a role, remove.

Everyone who may read a namespace sees its members; its administrators (``Action.MANAGE_MEMBERS``) change
them. A grant on a parent namespace also holds below it (``engine/identity/policy.py``): the inherited ones
are listed with the namespace they come from, and changed there. ``engine.identity.users`` audits each change.
"""

from __future__ import annotations

from sqlalchemy import Engine

from engine.core.namespaces import ancestors
from engine.identity import authz, users
from engine.identity.policy import Action, Principal, Role
from engine.services.workspace_views import MemberView
from engine.store.database import session_scope


def members(db: Engine, principal: Principal, namespace: str, *, inherited: bool = False) -> list[MemberView]:
    """Roles granted on exactly ``namespace``, by username; with ``inherited``, then those granted on each
    parent (the nearest first)."""
    authz.require(principal, Action.READ, namespace)
    origins = list(reversed(ancestors(namespace))) if inherited else [namespace]
    with session_scope(db) as session:
        return [
            MemberView(username=name, role=role, origin=origin, own=origin == namespace)
            for origin in origins
            for name, role in users.members(session, origin)
        ]


def set_role(
    db: Engine, principal: Principal, namespace: str, username: str, role: Role | str, *, actor: str | None = None
) -> None:
    """Invite ``username`` with ``role``, or change the role they have on ``namespace``.

    ``users.UserNotFound`` (a ``NotFound``) for an unknown user, ``users.UserError`` (an ``InvalidInput``) for
    a bad role or namespace."""
    authz.require(principal, Action.MANAGE_MEMBERS, namespace)
    with session_scope(db) as session:
        users.grant(session, users.get_user(session, username), namespace, role, actor=actor or principal.name)


def remove(db: Engine, principal: Principal, namespace: str, username: str, *, actor: str | None = None) -> bool:
    """Take away the role ``username`` has on exactly ``namespace`` (grants on parents stay); False when they
    had none there."""
    authz.require(principal, Action.MANAGE_MEMBERS, namespace)
    with session_scope(db) as session:
        return users.revoke(session, users.get_user(session, username), namespace, actor=actor or principal.name)
