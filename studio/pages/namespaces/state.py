"""A namespace as a workspace: its members, and the variables and secrets its flows (and those below) read.

Members see all of it (never a secret's value); the controls that change it show only to those who may.
"""

from dataclasses import dataclass
from typing import Any

import reflex as rx

from engine.identity.policy import Action, can
from studio import display, services
from studio.services import members as membership
from studio.services import namespace_settings as settings
from studio.session import SessionState

_FIELDS = {
    "new_variable",
    "new_value",
    "new_secret",
    "secret_value",
    "invite_username",
    "invite_role",
    "task_defaults",
}


@dataclass
class Setting:
    """A variable or a secret (whose value is never read back) flows of this namespace read; ``own`` when it is
    set on this namespace rather than on one above."""

    name: str
    origin: str
    own: bool
    value: str = ""

    @classmethod
    def of(cls, row: dict[str, Any]) -> "Setting":
        value = display.scalar(row["value"]) if "value" in row else ""  # a secret's value is never read
        return cls(name=row["name"], origin=row["origin"], own=row["own"], value=value)


@dataclass
class Member:
    """A role someone holds here; ``own`` when it is granted on this namespace rather than on one above."""

    username: str
    role: str
    origin: str
    own: bool

    @classmethod
    def of(cls, row: dict[str, Any]) -> "Member":
        return cls(username=row["username"], role=row["role"], origin=row["origin"], own=row["own"])


class NamespaceState(SessionState):
    namespaces: list[str] = []
    namespace: str = ""
    variables: list[Setting] = []
    secrets: list[Setting] = []
    members: list[Member] = []
    new_variable: str = ""
    new_value: str = ""
    new_secret: str = ""
    secret_value: str = ""
    invite_username: str = ""
    invite_role: str = "viewer"
    # Task defaults: the YAML as written, what the namespaces above set, and the problems of the last save.
    task_defaults: str = ""
    inherited_defaults: str = ""
    defaults_problems: str = ""
    error: str = ""
    notice: str = ""
    # What the signed-in person may change here, set with each refresh (the services check again).
    can_manage_variables: bool = False
    can_manage_secrets: bool = False
    can_manage_members: bool = False

    @rx.event
    def load(self) -> None:
        self.namespaces = services.namespaces(self.principal())
        wanted = self.router.page.params.get("namespace", "")
        if wanted:
            self.namespace = wanted
        elif self.namespace not in self.namespaces:
            self.namespace = self.namespaces[0] if self.namespaces else ""
        self.error, self.notice = "", ""
        self._refresh()

    def _refresh(self) -> None:
        principal = self.principal()
        self.can_manage_variables = self.can_manage_secrets = self.can_manage_members = False
        self.variables, self.secrets, self.members = [], [], []
        if not self.namespace:
            return
        found = settings.settings(principal, self.namespace)  # raises unless they may read the namespace
        self.variables = [Setting.of(row) for row in found["variables"]]
        self.secrets = [Setting.of(row) for row in found["secrets"]]
        self.members = [Member.of(row) for row in membership.members(principal, self.namespace)]
        defaults = settings.task_defaults(principal, self.namespace)
        self.task_defaults, self.defaults_problems = defaults["source"], ""
        self.inherited_defaults = "\n".join(
            f"# from {parent['namespace']}\n{parent['source'].rstrip()}" for parent in defaults["inherited"]
        )
        self.can_manage_variables = can(principal, Action.MANAGE_VARIABLES, self.namespace)
        self.can_manage_secrets = can(principal, Action.MANAGE_SECRETS, self.namespace)
        self.can_manage_members = can(principal, Action.MANAGE_MEMBERS, self.namespace)

    def _do(self, action, done: str) -> None:
        """Run ``action(principal)``: a ``ValueError`` is shown on the page; a refusal goes to the app's toast."""
        try:
            action(self.principal())
        except ValueError as exc:
            self.error, self.notice = str(exc), ""
            return
        self.error, self.notice = "", done
        self._refresh()

    @rx.event
    def choose(self, namespace: str) -> None:
        self.namespace = namespace
        self.error = self.notice = ""
        self._refresh()

    @rx.event
    def invite(self) -> None:
        name, role = self.invite_username.strip(), self.invite_role
        self._do(lambda who: membership.set_role(who, self.namespace, name, role), f"{name} is now {role}")
        if not self.error:
            self.invite_username = ""

    @rx.event
    def change_role(self, username: str, role: str) -> None:
        self._do(lambda who: membership.set_role(who, self.namespace, username, role), f"{username} is now {role}")

    @rx.event
    def remove_member(self, username: str) -> None:
        done = f"{username} removed from {self.namespace}"
        self._do(lambda who: membership.remove(who, self.namespace, username), done)

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        if name in _FIELDS:  # the browser names the field: never let it set anything else (a namespace, a right)
            setattr(self, name, value)

    @rx.event
    def save_variable(self) -> None:
        name = self.new_variable.strip()
        self._do(lambda who: settings.set_variable(who, self.namespace, name, self.new_value), f"variable {name} saved")
        if not self.error:
            self.new_variable = self.new_value = ""

    @rx.event
    def delete_variable(self, name: str) -> None:
        self._do(lambda who: settings.delete_variable(who, self.namespace, name), f"variable {name} deleted")

    @rx.event
    def save_secret(self) -> None:
        name = self.new_secret.strip()
        self._do(lambda who: settings.set_secret(who, self.namespace, name, self.secret_value), f"secret {name} saved")
        self.secret_value = ""  # never kept, never shown again
        if not self.error:
            self.new_secret = ""

    @rx.event
    def delete_secret(self, name: str) -> None:
        self._do(lambda who: settings.delete_secret(who, self.namespace, name), f"secret {name} deleted")

    @rx.event
    def save_task_defaults(self) -> None:
        try:
            count = settings.set_task_defaults(self.principal(), self.namespace, self.task_defaults)
        except ValueError as exc:  # each problem at its line and column, shown under the box
            self.defaults_problems, self.notice = str(exc), ""
            return
        self.defaults_problems, self.error, self.notice = "", "", f"{count} task default(s) saved"
