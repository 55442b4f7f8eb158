"""The people service (users, accounts, tokens) against a real database, without a browser."""

from __future__ import annotations

import pytest

from engine.identity import authz, tokens, users
from engine.identity import sessions as login_sessions
from engine.identity.policy import Principal, Role
from engine.store.database import session_scope
from studio.pages.account.state import TokenRow
from studio.pages.users.state import UserRow
from studio.services import people

ADMIN = Principal(name="boss", is_admin=True)
# A namespace administrator is still no global administrator: users are not theirs to manage.
NAMESPACE_ADMIN = Principal(name="nina", memberships={"acme": Role.ADMIN})


pytestmark = pytest.mark.usefixtures("accounts")


@pytest.fixture
def accounts(db) -> None:
    """Two users in the studio's database (``db``): the administrator boss and nina, administrator of acme."""
    with session_scope(db) as session:
        users.create_user(session, "boss", "boss password 1", actor="test", is_admin=True)
        nina = users.create_user(session, "nina", "nina password 1", actor="test")
        users.grant(session, nina, "acme", Role.ADMIN, actor="test")


def principal(db, username: str) -> Principal:
    with session_scope(db) as session:
        return users.principal_for(session, users.get_user(session, username))


def test_someone_not_a_global_administrator_is_refused_by_every_user_function(db):
    calls = [
        lambda p: people.list_users(p),
        lambda p: people.create_user(p, "mallory", "mallory password"),
        lambda p: people.set_disabled(p, "boss", True),
        lambda p: people.set_disabled(p, "boss", False),
        lambda p: people.reset_password(p, "boss", "taken over 123"),
        lambda p: people.grant(p, "nina", "acme", "admin"),
        lambda p: people.remove_membership(p, "nina", "acme"),
    ]
    for call in calls:
        with pytest.raises(authz.Forbidden, match="only administrators"):
            call(NAMESPACE_ADMIN)
    with session_scope(db) as session:
        assert [u.username for u in users.list_users(session)] == ["boss", "nina"]
        assert not users.get_user(session, "boss").disabled
        assert users.authenticate(session, "boss", "boss password 1") is not None
        assert users.memberships(session, users.get_user(session, "nina")) == {"acme": Role.ADMIN}


def test_an_administrator_creates_grants_lists_and_removes(db):
    people.create_user(ADMIN, "Carol", "carol password 1")  # usernames are lowercase
    people.grant(ADMIN, "carol", "acme.sales", "editor")
    people.grant(ADMIN, "carol", "acme", "viewer")
    listed = {row.username: row for row in people.list_users(ADMIN)}
    assert set(listed) == {"boss", "carol", "nina"} and listed["boss"].is_admin and not listed["carol"].is_admin
    carol = listed["carol"]
    assert [(m.namespace, m.role) for m in carol.memberships] == [("acme", "viewer"), ("acme.sales", "editor")]
    assert carol.last_sign_in_at is None and UserRow.of(carol).last_sign_in == "never" and not carol.disabled
    people.remove_membership(ADMIN, "carol", "acme")
    assert principal(db, "carol").memberships == {"acme.sales": Role.EDITOR}
    with pytest.raises(ValueError, match="has no role on acme"):
        people.remove_membership(ADMIN, "carol", "acme")
    for bad in (
        lambda: people.create_user(ADMIN, "dave", "short"),
        lambda: people.create_user(ADMIN, "carol", "x" * 12),
    ):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(ValueError, match="not a role"):
        people.grant(ADMIN, "carol", "acme", "owner")
    people.reset_password(ADMIN, "carol", "a new password")
    with session_scope(db) as session:
        assert users.authenticate(session, "carol", "a new password") is not None
        assert users.authenticate(session, "carol", "carol password 1") is None


def test_disabling_ends_sign_in_sessions_and_enabling_does_not_revive_them(db):
    with session_scope(db) as session:
        _, cookie = login_sessions.open_session(session, users.get_user(session, "nina"))
        assert login_sessions.holder_of_session(session, cookie).username == "nina"
    people.set_disabled(ADMIN, "nina", True)
    assert next(u for u in people.list_users(ADMIN) if u.username == "nina").disabled
    people.set_disabled(ADMIN, "nina", False)  # enabled again: the old session was closed, not just suspended
    with session_scope(db) as session:
        assert login_sessions.holder_of_session(session, cookie) is None
        assert users.authenticate(session, "nina", "nina password 1") is not None
    with pytest.raises(ValueError, match="your own account"):
        people.set_disabled(ADMIN, "boss", True)


def test_personal_tokens_authenticate_until_revoked_and_only_their_owner_revokes_them(db):
    nina = principal(db, "nina")
    plain = people.create_token(nina, "ci", days=30)
    assert plain.startswith("lnr_")
    with session_scope(db) as session:
        assert tokens.holder_of_token(session, plain).username == "nina"
    [row] = people.my_tokens(nina)
    assert row.name == "ci" and row.active and TokenRow.of(row).expires != "never" and plain not in str(row)
    assert people.my_tokens(ADMIN) == []  # each person sees their own tokens only

    with pytest.raises(LookupError, match=f"no token {row.id}"):
        people.revoke_token(ADMIN, row.id)  # even an administrator's account page revokes only their own
    with session_scope(db) as session:
        assert tokens.holder_of_token(session, plain) is not None

    people.revoke_token(nina, row.id)
    with session_scope(db) as session:
        assert tokens.holder_of_token(session, plain) is None
    [row] = people.my_tokens(nina)
    assert not row.active and row.revoked_at and TokenRow.of(row).revoked
    with pytest.raises(ValueError, match="1 to 3650 days"):
        people.create_token(nina, "forever", days=0)
    with pytest.raises(ValueError, match="needs a name"):
        people.create_token(nina, "  ")


def test_a_disabled_persons_token_stops_working(db):
    plain = people.create_token(principal(db, "nina"), "script")
    people.set_disabled(ADMIN, "nina", True)
    with session_scope(db) as session:
        assert tokens.holder_of_token(session, plain) is None


def test_changing_ones_own_password_needs_the_current_one(db):
    nina = principal(db, "nina")
    with pytest.raises(ValueError, match="current password is wrong"):
        people.change_password(nina, "not it at all", "nina password 2", "nina password 2")
    with pytest.raises(ValueError, match="differ"):
        people.change_password(nina, "nina password 1", "nina password 2", "nina password 3")
    with pytest.raises(ValueError, match="at least 10"):
        people.change_password(nina, "nina password 1", "short", "short")
    people.change_password(nina, "nina password 1", "nina password 2", "nina password 2")
    with session_scope(db) as session:
        assert users.authenticate(session, "nina", "nina password 2") is not None
        assert users.authenticate(session, "nina", "nina password 1") is None
    account = people.account(nina)
    assert account.username == "nina" and [(m.namespace, m.role) for m in account.memberships] == [("acme", "admin")]
