"""What the workspace services return: namespaces, members, variables, secrets (names), people, tokens and
share links, converted from store rows here only (like ``views.py`` for flows and executions).

The API's response bodies are validated from these (``from_attributes``), the studio formats them and the CLI
prints them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.identity import lifetimes
from engine.identity.policy import Role
from engine.services.views import ExecutionView, View
from engine.store.tables import ApiToken, NamespaceVariable, ShareLink, User


class NamespaceView(View):
    name: str
    flows: int = 0  # flows not deleted
    executions: int = 0


class MemberView(View):
    """A role granted to ``username`` on ``origin``: the namespace asked about (``own``) or one above it."""

    username: str
    role: Role
    origin: str
    own: bool = True


class VariableView(View):
    namespace: str
    name: str
    value: Any = None
    updated_at: dt.datetime | None = None
    updated_by: str | None = None

    @classmethod
    def of(cls, row: NamespaceVariable) -> VariableView:
        return cls.model_validate(row, from_attributes=True)


class InheritedVariableView(View):
    """A variable as a namespace's flows read it: from the namespace itself (``own``) or the nearest above."""

    name: str
    value: Any = None
    origin: str
    own: bool


class InheritedSecretView(View):
    """A secret's name (never its value) as a namespace's flows reach it."""

    name: str
    origin: str
    own: bool


class NamespaceSettingsView(View):
    variables: list[InheritedVariableView]
    secrets: list[InheritedSecretView]


class MembershipView(View):
    namespace: str
    role: Role


class UserView(View):
    username: str
    display_name: str | None = None
    is_admin: bool
    disabled: bool
    last_login_at: dt.datetime | None = None
    memberships: list[MembershipView] = []

    @classmethod
    def of(cls, user: User, memberships: dict[str, Role] | None = None) -> UserView:
        granted = [MembershipView(namespace=n, role=r) for n, r in sorted((memberships or {}).items())]
        return cls.model_validate({**user.model_dump(exclude={"password_hash"}), "memberships": granted})


class TokenView(View):
    id: int
    owner: str
    name: str
    prefix: str  # its first characters, to recognise it
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    status: str  # active, expired or revoked
    token: str | None = None  # only in the answer that creates it

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def active(self) -> bool:
        return self.status == "active"

    @classmethod
    def of(cls, token: ApiToken, owner: str, plain: str | None = None) -> TokenView:
        kept = token.model_dump(exclude={"token_hash"})
        return cls.model_validate({**kept, "owner": owner, "status": lifetimes.status(token), "token": plain})


class ShareLinkView(View):
    id: int
    kind: str
    namespace: str
    target_id: str
    revision: int | None = None
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    status: str  # active, expired or revoked
    path: str | None = None  # /share/<token>: only in the answer that creates it

    @property
    def active(self) -> bool:
        return self.status == "active"

    @classmethod
    def of(cls, link: ShareLink, plain: str | None = None) -> ShareLinkView:
        kept = link.model_dump(exclude={"token_hash"})
        return cls.model_validate(
            {**kept, "status": lifetimes.status(link), "path": f"/share/{plain}" if plain else None}
        )


class SharedTargetView(View):
    """What a share link shows, and nothing else: a flow's text at a revision, or an execution with its runs
    and the text of the revision it ran."""

    kind: str
    namespace: str
    flow_id: str
    revision: int
    source: str
    execution: ExecutionView | None = None
