"""The authorization layer with the database: who is asking, SQL visibility, refusals, sessions, login limits."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy
from sqlmodel import select

from engine.identity import authz, login_limit, tokens, users
from engine.identity import sessions as login_sessions
from engine.identity.policy import Action, Principal, Role
from engine.runtime.connection import connect, embedded_redis
from engine.store.database import session_scope
from engine.store.tables import Namespace, utcnow

PASSWORD = "a long enough password"
NAMES = ["acme", "acme.sales", "acme.sales.eu", "acme_x", "acmeco", "globex", "acme.ops"]


def test_before_the_first_user_everyone_is_the_local_administrator(database):
    with session_scope(database) as session:
        assert not authz.sign_in_required(session)
        assert authz.principal_from(session) is authz.LOCAL
        users.create_user(session, "ana", PASSWORD, actor="test")
    with session_scope(database) as session:
        assert authz.sign_in_required(session)
        with pytest.raises(authz.Unauthenticated):
            authz.principal_from(session)
        with pytest.raises(authz.Unauthenticated):
            authz.principal_from(session, bearer="lnr_forged", cookie="lss_forged")


def test_once_a_database_has_an_account_sign_in_is_known_required_without_asking_it_again(database):
    with session_scope(database) as session:
        users.create_user(session, "ana", PASSWORD, actor="test")
    with session_scope(database) as session:
        assert authz.sign_in_required(session)  # asked: accounts are never deleted
    statements = []
    sqlalchemy.event.listen(database, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with session_scope(database) as session:
        assert authz.sign_in_required(session)
    assert statements == []


def test_tokens_and_sessions_name_their_user_with_their_roles(database):
    with session_scope(database) as session:
        ana = users.create_user(session, "ana", PASSWORD, actor="test")
        users.grant(session, ana, "acme", Role.EDITOR, actor="test")
        _, token = tokens.create_token(session, ana, "ci", actor="ana")
        _, cookie = login_sessions.open_session(session, ana, client="127.0.0.1")
    with session_scope(database) as session:
        by_token = authz.principal_from(session, bearer=token)
        by_cookie = authz.principal_from(session, cookie=cookie)
    assert by_token == by_cookie == Principal("ana", False, {"acme": Role.EDITOR})
    with session_scope(database) as session:
        assert login_sessions.close_session(session, cookie)
        assert login_sessions.holder_of_session(session, cookie) is None
        later = utcnow() + login_sessions.LIFETIME + dt.timedelta(seconds=1)
        _, fresh = login_sessions.open_session(session, users.get_user(session, "ana"))
        assert login_sessions.holder_of_session(session, fresh, now=later) is None  # expired
        users.set_disabled(session, users.get_user(session, "ana"), True, actor="test")
        assert login_sessions.holder_of_session(session, fresh) is None


@pytest.mark.parametrize(
    ("memberships", "visible"),
    [
        ({}, []),
        ({"acme": Role.VIEWER}, ["acme", "acme.ops", "acme.sales", "acme.sales.eu"]),  # not acme_x nor acmeco
        ({"acme.sales": Role.ADMIN, "globex": Role.VIEWER}, ["acme.sales", "acme.sales.eu", "globex"]),
        ({"acme_x": Role.VIEWER}, ["acme_x"]),  # "_" is a LIKE wildcard: escaped
    ],
)
def test_readable_keeps_sql_to_what_the_person_may_read(database, memberships, visible):
    with session_scope(database) as session:
        for name in NAMES:
            session.add(Namespace(name=name))
    principal = Principal("ana", memberships=memberships)
    with session_scope(database) as session:
        found = session.exec(select(Namespace.name).where(authz.readable(principal, Namespace.name)))
        assert sorted(found) == visible
        everything = session.exec(select(Namespace.name).where(authz.readable(authz.LOCAL, Namespace.name)))
        assert sorted(everything) == sorted(NAMES)


def test_require_tells_members_what_they_lack_and_strangers_nothing():
    vera = Principal("vera", memberships={"acme": Role.VIEWER})
    authz.require(vera, Action.READ, "acme.sales")
    with pytest.raises(authz.Forbidden, match=r"run in acme\.sales needs the operator role"):
        authz.require(vera, Action.RUN, "acme.sales", what="flow acme.sales/report")
    with pytest.raises(authz.NotVisible, match=r"^no flow globex/plan$"):
        authz.require(vera, Action.RUN, "globex", what="flow globex/plan")
    with pytest.raises(authz.Forbidden, match="only administrators"):
        authz.require(vera, Action.MANAGE_USERS, None)


def test_decide_counts_failures_in_a_window():
    assert login_limit.decide(0, -2).allowed
    assert login_limit.decide(4, 100).allowed
    assert login_limit.decide(5, 100) == login_limit.Verdict(False, 100)
    assert login_limit.decide(9, 0) == login_limit.Verdict(False, 1)


def test_slowdown_grows_and_is_capped():
    assert login_limit.slowdown(login_limit.SLOW_DOWN_AFTER - 1) == 0
    assert login_limit.slowdown(login_limit.SLOW_DOWN_AFTER) == 1
    assert login_limit.slowdown(login_limit.SLOW_DOWN_AFTER + 1) == 2
    assert login_limit.slowdown(1000) == login_limit.MAX_DELAY_SECONDS


def test_failed_sign_ins_are_limited_per_name_and_address_and_per_address(tmp_path):
    with embedded_redis(tmp_path) as url:
        redis = connect(url)
        for _ in range(login_limit.MAX_FAILURES):
            assert login_limit.check(redis, "ana", "10.0.0.1").allowed
            login_limit.record_failure(redis, "ana", "10.0.0.1")
        refused = login_limit.check(redis, "Ana", "10.0.0.1")  # the name from that address, whatever the case
        assert not refused.allowed and 0 < refused.retry_after <= login_limit.WINDOW_SECONDS
        elsewhere = login_limit.check(redis, "ana", "10.0.0.9")  # a stranger cannot lock ana out: slower only
        assert elsewhere.allowed and elsewhere.delay == login_limit.slowdown(login_limit.MAX_FAILURES) > 0
        assert login_limit.check(redis, "bob", "10.0.0.2") == login_limit.Verdict(True)
        for name in range(login_limit.MAX_FAILURES_PER_CLIENT):
            login_limit.record_failure(redis, f"user{name}", "10.0.0.3")
        assert not login_limit.check(redis, "carol", "10.0.0.3").allowed  # guessing many names from one place
        login_limit.record_success(redis, "ana", "10.0.0.1")
        assert login_limit.check(redis, "ana", "10.0.0.1") == login_limit.Verdict(True)
