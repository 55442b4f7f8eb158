"""Who is a member of a namespace, for the studio's namespace page: list, invite, change a role, remove.

``engine.services.members`` decides access (readers see the members, administrators change them) and audits;
a grant on a parent namespace also holds here, so the list shows those too, with the namespace they come from.
"""

from __future__ import annotations

from typing import Any

from engine.identity import users
from engine.identity.policy import Principal, Role
from engine.services import members as service
from studio.services import database

ROLES = [role.value for role in Role]  # viewer, operator, editor, admin: the choices of the role selector


def members(principal: Principal, namespace: str) -> list[dict[str, Any]]:
    """Grants on ``namespace`` itself, then those inherited from each parent (the nearest first).

    Each row: username, role, origin (the namespace granted on) and own (True when granted here)."""
    return [
        {"username": m.username, "role": m.role.value, "origin": m.origin, "own": m.own}
        for m in service.members(database(), principal, namespace, inherited=True)
    ]


def _invited(username: str) -> str:
    return f"no user {username.strip() or '(empty)'}: an administrator creates accounts"


def set_role(principal: Principal, namespace: str, username: str, role: str) -> None:
    """Invite ``username`` with ``role``, or change the role they have on ``namespace``.

    Raises ``users.UserError`` (a ``ValueError``) for an unknown user, a bad role or namespace."""
    try:
        service.set_role(database(), principal, namespace, username.strip(), role)
    except users.UserNotFound:
        raise users.UserError(_invited(username)) from None


def remove(principal: Principal, namespace: str, username: str) -> None:
    """Take away the role ``username`` has on exactly ``namespace`` (grants on parents stay)."""
    try:
        removed = service.remove(database(), principal, namespace, username.strip())
    except users.UserNotFound:
        raise users.UserError(_invited(username)) from None
    if not removed:
        raise users.UserError(f"{username} has no role on {namespace}")
