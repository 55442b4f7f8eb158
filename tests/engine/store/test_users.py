"""Users, memberships, API tokens, share links and the audit trail on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import inspect

from engine.identity import audit, share_links, tokens, users
from engine.identity.policy import Action, Role, can
from engine.store.database import alembic_config, session_scope
from engine.store.tables import ApiToken, User, utcnow

PASSWORD = "correct horse battery"


def make_user(database, username: str = "ana", **options) -> User:
    with session_scope(database) as session:
        return users.create_user(session, username, PASSWORD, actor="system", **options)


IDENTITY_TABLES = {"user", "api_token", "membership", "share_link", "audit_event"}


def test_migration_creates_the_identity_tables_and_downgrades(database):
    assert set(inspect(database).get_table_names()) >= IDENTITY_TABLES
    url = database.url.render_as_string(hide_password=False)
    command.downgrade(alembic_config(url), "0005")
    assert not IDENTITY_TABLES & set(inspect(database).get_table_names())
    command.upgrade(alembic_config(url), "head")
    assert set(inspect(database).get_table_names()) >= IDENTITY_TABLES


def test_create_and_authenticate(database):
    make_user(database, display_name="Ana Lima")
    with session_scope(database) as session:
        user = users.authenticate(session, "ana", PASSWORD)
        assert user is not None and user.display_name == "Ana Lima" and not user.is_admin
        assert user.last_login_at is not None
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert "password_hash" not in repr(user)
        assert users.authenticate(session, "ana", PASSWORD + "x") is None
        assert users.authenticate(session, "ana", "") is None
        assert users.authenticate(session, "nobody", PASSWORD) is None


def test_disabled_user_cannot_sign_in_until_enabled(database):
    make_user(database)
    with session_scope(database) as session:
        users.set_disabled(session, users.get_user(session, "ana"), True, actor="root")
    with session_scope(database) as session:
        assert users.authenticate(session, "ana", PASSWORD) is None
        users.set_disabled(session, users.get_user(session, "ana"), False, actor="root")
    with session_scope(database) as session:
        assert users.authenticate(session, "ana", PASSWORD) is not None


def test_set_password(database):
    make_user(database)
    with session_scope(database) as session:
        users.set_password(session, users.get_user(session, "ana"), "a new long password", actor="ana")
    with session_scope(database) as session:
        assert users.authenticate(session, "ana", PASSWORD) is None
        assert users.authenticate(session, "ana", "a new long password") is not None


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("ana", "short", "at least 10 characters"),
        ("ana", "123456789", "at least 10 characters"),
        ("Ana Lima", PASSWORD, "is not a username"),
        ("", PASSWORD, "is not a username"),
        ("system", PASSWORD, "reserved"),
        ("share", PASSWORD, "reserved"),
    ],
)
def test_create_refuses(database, username: str, password: str, message: str):
    with pytest.raises(users.UserError, match=message), session_scope(database) as session:
        users.create_user(session, username, password, actor="system")
    with session_scope(database) as session:
        assert users.list_users(session) == []


def test_duplicate_username_is_refused(database):
    make_user(database)
    with pytest.raises(users.UserError, match="already exists"):
        make_user(database)
    with session_scope(database) as session:
        assert [u.username for u in users.list_users(session)] == ["ana"]
        with pytest.raises(users.UserNotFound):
            users.get_user(session, "bob")


def test_memberships_and_principal(database):
    make_user(database)
    make_user(database, "root", is_admin=True)
    with session_scope(database) as session:
        ana = users.get_user(session, "ana")
        users.grant(session, ana, "acme", Role.VIEWER, actor="root")
        users.grant(session, ana, "acme.sales", "operator", actor="root")
        users.grant(session, ana, "acme.sales", "editor", actor="root")  # replaces operator
        users.grant(session, ana, "other", "admin", actor="root")
    with session_scope(database) as session:
        ana = users.get_user(session, "ana")
        assert users.revoke(session, ana, "other", actor="root")
        assert not users.revoke(session, ana, "other", actor="root")
    with session_scope(database) as session:
        ana = users.principal_for(session, users.get_user(session, "ana"))
        root = users.principal_for(session, users.get_user(session, "root"))
        assert users.members(session, "acme.sales") == [("ana", Role.EDITOR)]
    assert ana.memberships == {"acme": Role.VIEWER, "acme.sales": Role.EDITOR}
    assert can(ana, Action.EDIT_FLOW, "acme.sales.eu") and not can(ana, Action.EDIT_FLOW, "acme.hr")
    assert not can(ana, Action.READ, "other")
    assert root.is_admin and root.memberships == {} and can(root, Action.MANAGE_USERS, None)


@pytest.mark.parametrize(
    ("namespace", "role", "message"),
    [("Acme", "viewer", "not a namespace"), ("acme..x", "viewer", "not a namespace"), ("acme", "owner", "not a role")],
)
def test_grant_refuses(database, namespace: str, role: str, message: str):
    make_user(database)
    with pytest.raises(users.UserError, match=message), session_scope(database) as session:
        users.grant(session, users.get_user(session, "ana"), namespace, role, actor="root")


def test_tokens_valid_wrong_revoked_expired(database):
    make_user(database)
    now = utcnow()
    with session_scope(database) as session:
        ana = users.get_user(session, "ana")
        token, plain = tokens.create_token(session, ana, "ci", actor="ana")
        _, old_plain = tokens.create_token(session, ana, "old", actor="ana", expires_at=now + dt.timedelta(days=1))
        gone, gone_plain = tokens.create_token(session, ana, "gone", actor="ana")
    assert plain.startswith("lnr_") and len(plain) > 40 and token.prefix == plain[:8]
    with session_scope(database) as session:
        tokens.revoke_token(session, gone.id, actor="ana")
        with pytest.raises(tokens.TokenNotFound):
            tokens.revoke_token(session, 9999, actor="ana")
    with session_scope(database) as session:
        assert tokens.holder_of_token(session, plain).username == "ana"
        assert session.get(ApiToken, token.id).last_used_at is not None
        assert tokens.holder_of_token(session, old_plain).username == "ana"
        assert tokens.holder_of_token(session, old_plain, now=now + dt.timedelta(days=2)) is None
        assert tokens.holder_of_token(session, gone_plain) is None
        assert tokens.holder_of_token(session, plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None
        assert tokens.holder_of_token(session, "") is None
        assert tokens.holder_of_token(session, token.token_hash) is None  # the stored digest is not a token
        assert [t.name for t in tokens.tokens_of(session, users.get_user(session, "ana"))] == ["ci", "old", "gone"]
        users.set_disabled(session, users.get_user(session, "ana"), True, actor="root")
    with session_scope(database) as session:
        assert tokens.holder_of_token(session, plain) is None  # a disabled user's tokens stop working


def test_share_links(database):
    now = utcnow()
    with session_scope(database) as session:
        link, plain = share_links.create_share_link(
            session, share_links.ShareKind.FLOW, "acme.sales", "report", created_by="ana", expires_at=None, revision=3
        )
        _, brief_plain = share_links.create_share_link(
            session, "execution", "acme.sales", "0b5e", created_by="ana", expires_at=now + dt.timedelta(hours=1)
        )
        with pytest.raises(ValueError, match="pinned"):
            share_links.create_share_link(
                session, "execution", "acme", "x", created_by="ana", expires_at=None, revision=1
            )
    assert plain.startswith("lns_") and plain != brief_plain
    with session_scope(database) as session:
        found = share_links.resolve_share_link(session, plain)
        assert (found.kind, found.namespace, found.target_id, found.revision) == ("flow", "acme.sales", "report", 3)
        assert share_links.resolve_share_link(session, brief_plain).target_id == "0b5e"
        assert share_links.resolve_share_link(session, brief_plain, now=now + dt.timedelta(hours=2)) is None
        assert share_links.resolve_share_link(session, "lns_nothing") is None
        assert share_links.resolve_share_link(session, "") is None
        share_links.revoke_share_link(session, link.id, actor="ana")
    with session_scope(database) as session:
        assert share_links.resolve_share_link(session, plain) is None
        listed = share_links.share_links(session, "flow", "acme.sales", "report")
        assert [x.id for x in listed] == [link.id] and listed[0].revoked_at is not None
        with pytest.raises(share_links.ShareLinkNotFound):
            share_links.revoke_share_link(session, 9999, actor="ana")


def test_audit_events_by_namespace_prefix_and_pages(database):
    with session_scope(database) as session:
        for namespace in ("acme", "acme.sales", "acme.sales.eu", "acmex", "acme_x", "axme.y", None):
            audit.record(session, "ana", audit.AuditAction.DEPLOYED, namespace, "flow", "f", revision=1)
        audit.record(session, "webhook", "ran", "acme.sales", "execution", "e1")
    with session_scope(database) as session:
        newest = audit.events(session, "acme.sales")
        assert [(e.namespace, e.action) for e in newest] == [
            ("acme.sales", "ran"),
            ("acme.sales.eu", "deployed"),
            ("acme.sales", "deployed"),
        ]
        assert newest[-1].details == {"revision": 1} and newest[0].at is not None
        assert [e.namespace for e in audit.events(session, "acme")] == [
            "acme.sales",
            "acme.sales.eu",
            "acme.sales",
            "acme",
        ]
        assert [e.namespace for e in audit.events(session, "acme_x")] == ["acme_x"]  # "_" is not a wildcard
        assert len(audit.events(session)) == 8
        first = audit.events(session, "acme", limit=2)
        rest = audit.events(session, "acme", limit=2, before=first[-1].id)
        assert [e.id for e in first + rest] == [e.id for e in audit.events(session, "acme")]
        assert [e.actor for e in audit.events(session, actor="webhook")] == ["webhook"]


def test_identity_changes_are_audited(database):
    make_user(database)
    with session_scope(database) as session:
        ana = users.get_user(session, "ana")
        users.grant(session, ana, "acme", "editor", actor="root")
        tokens.create_token(session, ana, "ci", actor="ana")
    with session_scope(database) as session:
        trail = [(e.actor, e.action, e.namespace, e.target_id) for e in reversed(audit.events(session))]
        assert trail == [
            ("system", "created", None, "ana"),
            ("root", "membership_changed", "acme", "ana"),
            ("ana", "token_created", None, "ana"),
        ]
        assert all("lnr_" not in str(e.details) for e in audit.events(session))
