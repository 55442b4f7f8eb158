"""The one place that decides access: every API route, studio page, studio event and live stream asks here.

The rules themselves (roles, inheritance) are pure, in ``engine/identity/policy.py``. This module adds what needs the
database: who is asking (a bearer token, a session cookie), and SQL conditions that keep lists, searches,
charts and counts to the namespaces a person may read.

Until the first user exists, Lanner runs as a single-person local install (like a fresh Kestra): everyone is
the local administrator. Creating the first user (``lanner user create --admin`` or the studio's first
screen) turns sign-in on everywhere at once.
"""

from __future__ import annotations

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.core import errors
from engine.core.namespaces import subtree_condition
from engine.identity import sessions as login_sessions
from engine.identity import tokens, users
from engine.identity.policy import MINIMUM_ROLE, Action, Principal, Role, can
from engine.store import executions as execution_store
from engine.store import users as user_store
from engine.store.tables import Execution

LOCAL = Principal(name="local", is_admin=True)  # before any user exists


class Unauthenticated(PermissionError):
    """Nobody signed in (or the token/cookie is no longer valid) while sign-in is required: 401."""


class Forbidden(errors.Forbidden):
    """The person may see this but not do that: 403, with a message naming the role it needs."""


class NotVisible(errors.NotFound):
    """The person may not even see it: 404, worded like a missing thing so nothing leaks about its existence."""


# The databases (by URL) known to hold accounts. Accounts are never deleted (only disabled), so once a database has
# one, sign-in stays required there: asked once per process, not on every request.
_with_accounts: set[str] = set()


def sign_in_required(session: Session) -> bool:
    """Whether anybody has an account yet (before the first one, the engine runs without sign-in)."""
    database = session.get_bind().url.render_as_string(hide_password=False)
    if database in _with_accounts:
        return True
    if user_store.any_user(session):
        _with_accounts.add(database)
        return True
    return False


def principal_from(session: Session, *, bearer: str | None = None, cookie: str | None = None) -> Principal:
    """Who is asking, from an ``Authorization: Bearer`` token or a session cookie.

    Raises ``Unauthenticated`` when sign-in is required and neither names an enabled user.
    """
    if not sign_in_required(session):
        return LOCAL
    holder = None
    if bearer:
        holder = tokens.holder_of_token(session, bearer.strip())
    if holder is None and cookie:
        holder = login_sessions.holder_of_session(session, cookie)
    if holder is None:
        raise Unauthenticated("sign in, or send a valid API token as 'Authorization: Bearer lnr_...'")
    return users.principal_of(holder)


# What a person without a global role is told for actions asked of the whole installation (no namespace).
_GLOBAL_REFUSALS = {
    Action.MANAGE_USERS: "only administrators manage users",
    Action.READ_CLUSTER: "the cluster's processes are for administrators",
    Action.READ_AUDIT: (
        "the whole audit trail is for global administrators; a namespace's trail (?namespace=NAME) "
        "needs the admin role on that namespace"
    ),
}


def require(principal: Principal, action: Action, namespace: str | None, *, what: str | None = None) -> None:
    """Raise unless ``principal`` may do ``action`` in ``namespace``.

    Someone who may read the namespace is told what role they lack (403); anyone else gets the same 404 as for
    something that does not exist (``what`` names it, e.g. "flow acme/hello").
    """
    if can(principal, action, namespace):
        return
    if namespace is not None and can(principal, Action.READ, namespace):
        needed = _needed_role(action)
        raise Forbidden(f"{action.value.replace('_', ' ')} in {namespace} needs the {needed} role")
    if namespace is None and action in _GLOBAL_REFUSALS:
        raise Forbidden(_GLOBAL_REFUSALS[action])
    raise NotVisible(f"no {what}" if what else f"no namespace {namespace}")


def require_flow(principal: Principal, action: Action, namespace: str, flow_id: str) -> None:
    require(principal, action, namespace, what=f"flow {namespace}/{flow_id}")


def require_execution(session: Session, principal: Principal, action: Action, execution_id: str) -> Execution:
    """The execution, once ``principal`` may do ``action`` in its namespace. A missing one and one of a namespace
    they may not read get the same ``NotVisible``, so nothing tells them apart."""
    execution = execution_store.find_execution(session, execution_id)
    if execution is None:
        raise NotVisible(f"no execution {execution_id}")
    require_execution_in(principal, action, execution_id, execution.namespace)
    return execution


def require_execution_in(principal: Principal, action: Action, execution_id: str, namespace: str) -> None:
    """``require_execution`` for an execution already read, in ``namespace``."""
    require(principal, action, namespace, what=f"execution {execution_id}")


def _needed_role(action: Action) -> str:
    minimum = MINIMUM_ROLE[action]
    return minimum.value if minimum else "administrator"


def readable(principal: Principal, column) -> ColumnElement[bool]:
    """An SQL condition on a namespace column: true for the rows ``principal`` may read.

    Grants cover the namespaces below them, so one grant is "the namespace or anything under it"; a list of
    all namespaces is never needed.
    """
    if principal.is_admin:
        return true()
    roots = [name for name, role in principal.memberships.items() if role >= Role.VIEWER]
    if not roots:
        return false()
    return or_(*[subtree_condition(column, name) for name in roots])


def readable_namespace(principal: Principal, namespace: str | None) -> bool:
    return namespace is not None and can(principal, Action.READ, namespace)
