"""The authorization rules: roles, inheritance down the namespace tree, global administrators."""

from __future__ import annotations

import itertools

import pytest

from engine.identity.policy import MINIMUM_ROLE, Action, Principal, Role, ancestors, can, role_in, visible_namespaces

V, OP, E, A = Role.VIEWER, Role.OPERATOR, Role.EDITOR, Role.ADMIN

# Each role and the actions it allows (everything else is refused): the table people review.
ALLOWED = {
    V: {Action.READ, Action.READ_KV},
    OP: {Action.READ, Action.READ_KV, Action.RUN, Action.KILL, Action.RESTART, Action.PAUSE},
    E: {
        Action.READ,
        Action.READ_KV,
        Action.MANAGE_KV,
        Action.RUN,
        Action.KILL,
        Action.RESTART,
        Action.PAUSE,
        Action.EDIT_FLOW,
        Action.DELETE_EXECUTION,
        Action.EDIT_TRIGGER,
        Action.BACKFILL,
        Action.SHARE,
    },
    A: set(Action) - {Action.MANAGE_USERS, Action.READ_CLUSTER, Action.MANAGE_RESOURCES},
}


def test_every_action_has_a_minimum_role():
    assert set(MINIMUM_ROLE) == set(Action)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_role_allows_exactly_its_actions(role: Role, action: Action):
    principal = Principal("ana", memberships={"acme": role})
    assert can(principal, action, "acme") is (action in ALLOWED[role])


def test_each_role_allows_all_the_one_below_allows():
    roles = list(Role)
    for lower, higher in itertools.pairwise(roles):
        assert ALLOWED[lower] < ALLOWED[higher]


@pytest.mark.parametrize(
    ("left", "right", "less"),
    [(V, OP, True), (OP, E, True), (E, A, True), (V, A, True), (A, V, False), (E, E, False)],
)
def test_roles_compare_by_power_not_alphabetically(left: Role, right: Role, less: bool):
    assert (left < right) is less
    assert (left >= right) is not less
    assert max([left, right]) == (right if less else left)


def test_a_role_does_not_compare_with_a_string():
    with pytest.raises(TypeError):
        assert Role.ADMIN < "viewer"


@pytest.mark.parametrize(
    ("memberships", "namespace", "expected"),
    [
        ({}, "acme", None),
        ({"acme": V}, "acme", V),
        ({"acme": V}, "acme.sales", V),  # inherited by children
        ({"acme": V}, "acme.sales.eu", V),  # and grandchildren
        ({"acme.sales": E}, "acme", None),  # never by parents
        ({"acme.sales": E}, "acme.salesx", None),  # a prefix of the name is not a parent
        ({"acme": V}, "acmex", None),
        ({"acme_x": V}, "acme.x", None),
        ({"acme": V, "acme.sales": E}, "acme.sales.eu", E),  # the highest grant wins...
        ({"acme": A, "acme.sales": V}, "acme.sales", A),  # ...even when a lower one is more specific
        ({"acme": OP, "acme.sales": V}, "acme.hr", OP),
        ({"acme.sales": OP, "acme.sales.eu": E}, "acme.sales.us", OP),  # siblings do not inherit
        ({"other": A}, "acme", None),
    ],
)
def test_role_in(memberships: dict[str, Role], namespace: str, expected: Role | None):
    assert role_in(memberships, namespace) == expected


def test_ancestors():
    assert ancestors("acme") == ["acme"]
    assert ancestors("acme.sales.eu") == ["acme", "acme.sales", "acme.sales.eu"]


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("namespace", ["acme", "acme.sales.eu", "anything", None])
def test_global_admin_can_do_everything(action: Action, namespace: str | None):
    assert can(Principal("root", is_admin=True), action, namespace)


@pytest.mark.parametrize("role", list(Role))
def test_managing_users_is_for_global_admins_only(role: Role):
    principal = Principal("ana", memberships={"acme": role})
    assert not can(principal, Action.MANAGE_USERS, "acme")
    assert not can(principal, Action.MANAGE_USERS, None)


@pytest.mark.parametrize("action", list(Action))
def test_a_user_without_memberships_can_do_nothing(action: Action):
    assert not can(Principal("nobody"), action, "acme")
    assert not can(Principal("nobody", memberships={"acme": A}), action, None)


@pytest.mark.parametrize(
    ("memberships", "action", "namespace", "allowed"),
    [
        ({"acme": V, "acme.sales": E}, Action.EDIT_FLOW, "acme.sales.eu", True),
        ({"acme": V, "acme.sales": E}, Action.EDIT_FLOW, "acme.hr", False),
        ({"acme": V, "acme.sales": E}, Action.READ, "acme.hr", True),
        ({"acme.sales": OP}, Action.RUN, "acme.sales", True),
        ({"acme.sales": OP}, Action.READ, "acme", False),
        ({"acme.sales": A}, Action.MANAGE_MEMBERS, "acme.sales.eu", True),
        ({"acme.sales": A}, Action.MANAGE_MEMBERS, "acme", False),
    ],
)
def test_can_with_inheritance(memberships: dict[str, Role], action: Action, namespace: str, allowed: bool):
    assert can(Principal("ana", memberships=memberships), action, namespace) is allowed


ALL = ["acme", "acme.hr", "acme.sales", "acme.sales.eu", "acmex", "other"]


@pytest.mark.parametrize(
    ("principal", "visible"),
    [
        (Principal("root", is_admin=True), ALL),
        (Principal("nobody"), []),
        (Principal("ana", memberships={"acme": V}), ["acme", "acme.hr", "acme.sales", "acme.sales.eu"]),
        (Principal("bo", memberships={"acme.sales": OP}), ["acme.sales", "acme.sales.eu"]),
        (Principal("cy", memberships={"acme.sales.eu": V, "other": E}), ["acme.sales.eu", "other"]),
    ],
)
def test_visible_namespaces(principal: Principal, visible: list[str]):
    assert visible_namespaces(principal, reversed(ALL + ALL)) == visible
