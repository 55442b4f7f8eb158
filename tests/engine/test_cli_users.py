"""``lanner user`` and ``lanner token``, run as real processes against a real database."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from engine.identity import audit, tokens, users
from engine.identity.policy import Role

PASSWORD = "correct horse battery"


def test_create_grant_list_revoke(lanner, database):
    assert (
        b"created administrator root"
        in lanner("user", "create", "root", "--admin", "--password-stdin", stdin=PASSWORD + "\n").stdout
    )
    lanner("user", "create", "ana", "--display-name", "Ana Lima", "--password-stdin", stdin=PASSWORD)
    assert b"ana is editor on acme.sales" in lanner("user", "grant", "ana", "acme.sales", "editor").stdout
    lanner("user", "grant", "ana", "acme", "viewer")
    listed = lanner("user", "list").stdout.decode().splitlines()
    assert listed[0].startswith("ana ") and "acme=viewer, acme.sales=editor" in listed[0]
    assert listed[1].startswith("root ") and "admin" in listed[1] and "never" in listed[1]
    assert b"no more role on acme.sales" in lanner("user", "revoke", "ana", "acme.sales").stdout
    with Session(database) as session:
        ana = users.get_user(session, "ana")
        assert users.authenticate(session, "ana", PASSWORD) is not None and ana.display_name == "Ana Lima"
        assert users.memberships(session, ana) == {"acme": Role.VIEWER}
        assert users.get_user(session, "root").is_admin
        actors = {e.actor for e in audit.events(session)}
    assert len(actors) == 1 and actors.pop().startswith("cli:")


def test_interactive_create_asks_twice(lanner, database):
    lanner("user", "create", "ana", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    mismatch = lanner("user", "create", "bo", stdin=f"{PASSWORD}\nsomething else\n", check=False)
    assert mismatch.returncode != 0
    with Session(database) as session:
        assert [u.username for u in users.list_users(session)] == ["ana"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "create", "ana", "--password-stdin"), "short\n", b"at least 10 characters"),
        (("user", "create", "Not A Name", "--password-stdin"), PASSWORD, b"is not a username"),
        (("user", "grant", "nobody", "acme", "viewer"), "", b"no user nobody"),
        (("user", "grant", "ana", "Bad..Name", "viewer"), "", b"is not a namespace"),
        (("user", "grant", "ana", "acme", "owner"), "", b"'owner' is not one of"),
        (("user", "revoke", "ana", "acme"), "", b"ana has no role on acme"),
        (("token", "create", "ana", "ci", "--expires", "soon"), "", b"is not a duration"),
        (("token", "revoke", "999"), "", b"no token 999"),
    ],
)
def test_errors_are_clear(lanner, args: tuple[str, ...], stdin: str, message: bytes):
    lanner("user", "create", "ana", "--password-stdin", stdin=PASSWORD)
    done = lanner(*args, stdin=stdin, check=False)
    assert done.returncode != 0 and message in done.stderr, done.stderr


def test_duplicate_user_is_refused(lanner):
    lanner("user", "create", "ana", "--password-stdin", stdin=PASSWORD)
    done = lanner("user", "create", "ana", "--password-stdin", stdin=PASSWORD, check=False)
    assert done.returncode == 1 and b"user ana already exists" in done.stderr


def test_token_create_list_revoke(lanner, database):
    lanner("user", "create", "ana", "--password-stdin", stdin=PASSWORD)
    made = lanner("token", "create", "ana", "ci", "--expires", "30d")
    plain = made.stdout.decode().strip()
    assert plain.startswith("lnr_") and b"will not be shown again" in made.stderr and plain.encode() not in made.stderr
    with Session(database, expire_on_commit=False) as session:
        assert tokens.holder_of_token(session, plain).username == "ana"
        (row,) = tokens.tokens_of(session, users.get_user(session, "ana"))
        assert 29 <= (row.expires_at - row.created_at).days <= 30
        session.commit()
    listed = lanner("token", "list", "ana").stdout.decode()
    assert f"{row.id}  {plain[:8]}..." in listed and "valid" in listed and plain not in listed
    assert f"revoked token {row.id}".encode() in lanner("token", "revoke", str(row.id)).stdout
    assert "revoked" in lanner("token", "list", "ana").stdout.decode()
    with Session(database) as session:
        assert tokens.holder_of_token(session, plain) is None


def test_disable_stops_sign_in_and_tokens(lanner, database):
    lanner("user", "create", "ana", "--password-stdin", stdin=PASSWORD)
    plain = lanner("token", "create", "ana", "ci").stdout.decode().strip()
    lanner("user", "disable", "ana")
    with Session(database) as session:
        assert users.authenticate(session, "ana", PASSWORD) is None and tokens.holder_of_token(session, plain) is None
    lanner("user", "enable", "ana")
    with Session(database) as session:
        assert users.authenticate(session, "ana", PASSWORD) is not None
