"""The workspace services: one access check, typed refusals, audited changes, views that feed the API bodies."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlmodel import Session

from engine.api.routes.workspaces import MemberOut, TokenOut, UserOut, VariableOut
from engine.core import errors
from engine.identity import audit, authz, tokens
from engine.identity.policy import Principal, Role
from engine.services import members, people, workspaces

ROOT = Path(__file__).resolve().parents[2]
ADMIN = authz.LOCAL
PASSWORD = "correct horse battery"


def _imports(relative: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse((ROOT / relative).read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


@pytest.mark.parametrize(
    ("adapter", "service"),
    [
        ("engine/api/routes/namespaces.py", "engine.services.workspaces"),
        ("engine/api/routes/workspaces.py", "engine.services.workspaces"),
        ("engine/api/routes/workspaces.py", "engine.services.members"),
        ("engine/api/routes/workspaces.py", "engine.services.people"),
        ("studio/services/access.py", "engine.services.workspaces"),
        ("studio/services/namespace_settings.py", "engine.services.workspaces"),
        ("studio/services/members.py", "engine.services.members"),
        ("studio/services/people.py", "engine.services.people"),
        ("studio/services/sharing.py", "engine.services.sharing"),
        ("engine/cli/namespaces.py", "engine.services.workspaces"),
        ("engine/cli/users.py", "engine.services.people"),
    ],
)
def test_the_entry_points_call_the_same_services_and_never_the_store(adapter: str, service: str):
    imported = _imports(adapter)
    assert service in imported, imported
    assert [name for name in imported if name.startswith("engine.store")] == []


def test_variables_are_checked_once_typed_and_audited(database):
    viewer = Principal(name="vera", memberships={"acme": Role.VIEWER})
    with pytest.raises(authz.Forbidden):
        workspaces.set_variable(database, viewer, "acme", "region", "eu")
    with pytest.raises(errors.InvalidInput, match="a variable is a scalar"):
        workspaces.set_variable(database, ADMIN, "acme", "region", {"no": "dicts"})
    with pytest.raises(errors.InvalidInput, match="not a variable name"):
        workspaces.set_variable(database, ADMIN, "acme", "9lives", 1)
    workspaces.set_variable(database, ADMIN, "acme", "region", "eu", actor="api")
    workspaces.set_variable(database, ADMIN, "acme.sales", "region", "us")
    [view] = workspaces.variables_of(database, viewer, "acme")
    assert VariableOut.model_validate(view, from_attributes=True).value == "eu"
    seen = workspaces.settings(database, viewer, "acme.sales.eu")
    assert [(v.name, v.value, v.origin, v.own) for v in seen.variables] == [("region", "us", "acme.sales", False)]
    assert workspaces.delete_variable(database, ADMIN, "acme", "region") is True
    assert workspaces.delete_variable(database, ADMIN, "acme", "region") is False
    with Session(database) as session:
        trail = [(e.actor, e.action, e.target_id) for e in audit.events(session) if e.target_kind == "variable"]
    assert ("api", "changed", "region") in trail and ("local", "deleted", "region") in trail


def test_members_inherited_and_people_views_feed_the_api_bodies(database):
    made = people.create_user(database, ADMIN, "ana", PASSWORD)
    assert UserOut.model_validate(made, from_attributes=True).username == "ana"
    members.set_role(database, ADMIN, "acme", "ana", Role.VIEWER)
    members.set_role(database, ADMIN, "acme.sales", "ana", "editor")
    with pytest.raises(errors.NotFound, match="no user bo"):
        members.set_role(database, ADMIN, "acme", "bo", "viewer")
    with pytest.raises(errors.InvalidInput, match="is not a role"):
        members.set_role(database, ADMIN, "acme", "ana", "owner")
    found = members.members(database, ADMIN, "acme.sales", inherited=True)
    assert [(m.origin, m.role, m.own) for m in found] == [
        ("acme.sales", Role.EDITOR, True),
        ("acme", Role.VIEWER, False),
    ]
    assert MemberOut.model_validate(found[0], from_attributes=True).role is Role.EDITOR
    assert [m.namespace for m in people.list_users(database, ADMIN)[0].memberships] == ["acme", "acme.sales"]
    assert members.remove(database, ADMIN, "acme", "ana") is True
    assert members.remove(database, ADMIN, "acme", "ana") is False


def test_a_token_is_revoked_by_its_owner_or_by_an_administrator_who_asks_for_anyone_s(database):
    people.create_user(database, ADMIN, "ana", PASSWORD)
    people.create_user(database, ADMIN, "root", PASSWORD, is_admin=True)
    ana = Principal(name="ana")
    root = Principal(name="root", is_admin=True)
    with pytest.raises(people.NoUsersYet):
        people.create_token(database, ADMIN, "ci")
    made = people.create_token(database, ana, "ci")
    body = TokenOut.model_validate(made, from_attributes=True)
    assert body.token and body.token.startswith("lnr_") and not body.revoked
    with pytest.raises(tokens.TokenNotFound):
        people.revoke_token(database, root, made.id)  # the account page: one's own tokens only
    people.revoke_token(database, root, made.id, any_owner=True)
    [listed] = people.tokens_of(database, ana)
    assert listed.status == "revoked" and listed.token is None
    assert TokenOut.model_validate(listed, from_attributes=True).revoked
