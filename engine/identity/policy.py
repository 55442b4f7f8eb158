"""Who may do what where: the one authorization decision of Lanner, as pure functions (no I/O).

A person holds roles on namespaces (memberships). A role on a namespace also holds on every namespace below
it: ``editor`` on ``acme`` is ``editor`` on ``acme.sales.eu``. When several grants apply (``viewer`` on
``acme`` and ``editor`` on ``acme.sales``), the HIGHEST of them wins, not the most specific one: a grant can
only add rights, never take away what a parent grant gives, so reading one grant is enough to know what it
allows, and there are no "deny" rules to reason about. To restrict someone below a namespace, grant less on
the parent and more on the children. A global administrator (``is_admin``) may do everything, everywhere.

The API and the studio ask ``can(principal, action, namespace)``; nothing else compares roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from engine.core.namespaces import ancestors, is_within, root


class Role(StrEnum):
    """Roles from the least to the most powerful; each one may do all the one before it may."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    # Compared by power, never as strings ("admin" < "viewer" alphabetically): ``role >= Role.EDITOR`` must mean
    # what it reads as.
    def __lt__(self, other: object) -> bool:
        return self.rank < _role(other).rank

    def __le__(self, other: object) -> bool:
        return self.rank <= _role(other).rank

    def __gt__(self, other: object) -> bool:
        return self.rank > _role(other).rank

    def __ge__(self, other: object) -> bool:
        return self.rank >= _role(other).rank


_RANKS = {role: rank for rank, role in enumerate(Role)}


def _role(value: object) -> Role:
    if not isinstance(value, Role):
        raise TypeError(f"a role compares only with a role, not {value!r}")
    return value


class Action(StrEnum):
    READ = "read"  # see flows, executions, logs, outputs, triggers
    READ_AUDIT = "read_audit"
    RUN = "run"  # start an execution, with inputs
    KILL = "kill"
    RESTART = "restart"  # restart, replay
    PAUSE = "pause"  # pause and resume
    DELETE_EXECUTION = "delete_execution"
    EDIT_FLOW = "edit_flow"  # deploy, change, delete flows
    EDIT_TRIGGER = "edit_trigger"  # enable, disable triggers
    BACKFILL = "backfill"
    SHARE = "share"  # make read-only links for people without an account
    MANAGE_VARIABLES = "manage_variables"
    MANAGE_SECRETS = "manage_secrets"
    READ_KV = "read_kv"  # the keys and values of the KV store, own and inherited
    MANAGE_KV = "manage_kv"  # set and delete KV entries by hand (flows write them with kv.set whoever runs them)
    MANAGE_MEMBERS = "manage_members"
    MANAGE_USERS = "manage_users"  # create, disable users and their tokens: not tied to a namespace
    READ_CLUSTER = "read_cluster"  # the processes of the installation, queue depth, database and Redis status
    MANAGE_RESOURCES = "manage_resources"  # a namespace's limits of running executions and task runs


# The least role that allows each action. None: global administrators only.
MINIMUM_ROLE: Mapping[Action, Role | None] = MappingProxyType(
    {
        Action.READ: Role.VIEWER,
        Action.READ_AUDIT: Role.ADMIN,  # who did what, from where: for the people who manage the namespace
        Action.RUN: Role.OPERATOR,
        Action.KILL: Role.OPERATOR,
        Action.RESTART: Role.OPERATOR,
        Action.PAUSE: Role.OPERATOR,
        Action.EDIT_FLOW: Role.EDITOR,
        Action.DELETE_EXECUTION: Role.EDITOR,  # removes history other people may rely on
        Action.EDIT_TRIGGER: Role.EDITOR,
        Action.BACKFILL: Role.EDITOR,  # may start hundreds of executions at once: as much power as a trigger
        Action.SHARE: Role.EDITOR,  # shows the namespace's work to people outside it
        # Editors use secrets in the flows they write (so a malicious editor can already leak one); setting or
        # replacing the values changes what every flow of the namespace connects to, which is the admins' call.
        Action.MANAGE_SECRETS: Role.ADMIN,
        Action.MANAGE_VARIABLES: Role.ADMIN,  # variables steer every flow of the namespace, as secrets do
        Action.MANAGE_MEMBERS: Role.ADMIN,
        # The KV store is run-time state (a cursor, the last processed date) that flows read and write, not
        # configuration: who reads the flows reads it, and who writes the flows that write it (editors) may fix
        # or reset an entry by hand. Kestra lets its viewers read and its editors write the KV store likewise.
        Action.READ_KV: Role.VIEWER,
        Action.MANAGE_KV: Role.EDITOR,
        Action.MANAGE_USERS: None,
        Action.READ_CLUSTER: None,  # hosts, pids and every namespace's running task runs: the operators' view
        # Limits share the installation's workers between teams: set by those who run it, not by the team limited.
        Action.MANAGE_RESOURCES: None,
    }
)


@dataclass(frozen=True)
class Principal:
    """Whoever acts: a user with their memberships (namespace -> role), as loaded by ``users.principal_for``."""

    name: str
    is_admin: bool = False
    memberships: Mapping[str, Role] = field(default_factory=dict)


def role_in(memberships: Mapping[str, Role], namespace: str) -> Role | None:
    """The highest role granted on ``namespace`` or on any namespace above it; None without any grant."""
    granted = [memberships[name] for name in ancestors(namespace) if name in memberships]
    return max(granted) if granted else None


def can(principal: Principal, action: Action, namespace: str | None) -> bool:
    """Whether ``principal`` may do ``action`` in ``namespace`` (None for actions not tied to one)."""
    if principal.is_admin:
        return True
    minimum = MINIMUM_ROLE[action]
    if minimum is None or namespace is None:
        return False
    role = role_in(principal.memberships, namespace)
    return role is not None and role >= minimum


def visible_namespaces(principal: Principal, all_namespaces: Iterable[str]) -> list[str]:
    """The namespaces among ``all_namespaces`` that ``principal`` may read, sorted.

    A parent a person has no role on is not visible even when a child is: a tree view shows it as a label
    only (``ancestors`` gives the path), never its flows.
    """
    return sorted(name for name in set(all_namespaces) if can(principal, Action.READ, name))


class SubflowReach(StrEnum):
    """Which namespaces a flow may start subflows in (``LANNER_SUBFLOW_REACH``).

    A subflow runs with its own namespace's secrets and variables, so starting one is acting in that
    namespace: the reach keeps one team's flows from driving another team's.
    """

    ROOT = "root"  # the same top-level namespace: acme.sales may start acme.ops.x, never globex.y
    SUBTREE = "subtree"  # the flow's own namespace and those below it
    ANY = "any"  # every namespace (one team, one installation)


def may_start_subflow(caller: str, target: str, reach: SubflowReach | str) -> bool:
    """Whether a flow of namespace ``caller`` may start a flow of namespace ``target``."""
    reach = SubflowReach(reach)
    if reach is SubflowReach.ANY:
        return True
    if reach is SubflowReach.SUBTREE:
        return is_within(target, caller)
    return is_within(target, root(caller))


def subflow_reach_rule(caller: str, reach: SubflowReach | str) -> str:
    """What ``reach`` allows a flow of ``caller``, in words for an error message."""
    reach = SubflowReach(reach)
    if reach is SubflowReach.ANY:
        return "any namespace"
    if reach is SubflowReach.SUBTREE:
        return f"only {caller} and the namespaces below it"
    return f"only {root(caller)} and the namespaces below it"
