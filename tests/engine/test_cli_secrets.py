"""``lanner secret`` and ``lanner variable``, run as real processes."""

from __future__ import annotations

import pytest
import sqlalchemy

from engine.identity.crypto import generate_key


@pytest.fixture
def lanner_env() -> dict[str, str]:
    """Every command of a test shares one new secret key."""
    return {"LANNER_SECRET_KEY": generate_key()}


def test_secret_set_list_delete_never_shows_the_value(lanner, database_url):
    lanner("secret", "set", "acme.sales", "DB_PASSWORD", "--value-stdin", stdin="s3cr3t-pw\n")
    lanner("secret", "set", "acme.sales", "API_TOKEN", stdin="tok-123")  # piped without the flag works too
    listed = lanner("secret", "list", "acme.sales")
    assert listed.stdout.decode().split() == ["API_TOKEN", "DB_PASSWORD"]
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT ciphertext FROM namespace_secret")).scalars().all()
    engine.dispose()
    assert len(rows) == 2 and not any("s3cr3t-pw" in row or "tok-123" in row for row in rows)
    lanner("secret", "delete", "acme.sales", "API_TOKEN")
    assert lanner("secret", "list", "acme.sales").stdout.decode().split() == ["DB_PASSWORD"]
    missing = lanner("secret", "delete", "acme.sales", "API_TOKEN", check=False)
    assert missing.returncode == 1 and b"no secret API_TOKEN on acme.sales" in missing.stderr
    assert lanner("secret", "set", "Not A Namespace", "X", stdin="v", check=False).returncode == 1


def test_variable_values_are_yaml_scalars(lanner):
    for name, value in (("count", "42"), ("on", "true"), ("region", "eu-west"), ("quoted", "'42'"), ("none", "~")):
        lanner("variable", "set", "acme", name, value)
    listed = lanner("variable", "list", "acme").stdout.decode().splitlines()
    assert listed == ["count=42", "none=null", "on=true", 'quoted="42"', 'region="eu-west"']
    assert lanner("variable", "set", "acme", "bad", "[1, 2]", check=False).returncode == 1
    for bad_name in ("two words", "1st", "a-b", ""):  # not readable as vars.<name>: refused in one line
        refused = lanner("variable", "set", "acme", bad_name, "x", check=False)
        assert refused.returncode == 1 and b"is not a variable name" in refused.stderr, bad_name
        assert b"Traceback" not in refused.stderr and len(refused.stderr.splitlines()) == 1
    lanner("variable", "delete", "acme", "count")
    assert "count=42" not in lanner("variable", "list", "acme").stdout.decode()


def test_production_without_a_key_refuses_to_start(lanner):
    for command in (("worker", "--burst"), ("executor",)):
        done = lanner(*command, check=False, LANNER_MODE="production", LANNER_SECRET_KEY="")
        assert done.returncode == 1 and b"LANNER_MODE=production needs LANNER_SECRET_KEY" in done.stderr


def test_keygen_prints_a_usable_key(lanner):
    key = lanner("secret", "keygen").stdout.decode().strip()
    lanner("secret", "set", "acme", "X", stdin="value", LANNER_SECRET_KEY=key)


def test_rotate_re_encrypts_every_secret_with_the_new_key(lanner, database_url):
    old, new, stranger = generate_key(), generate_key(), generate_key()
    lanner("secret", "set", "acme", "A", stdin="alpha", LANNER_SECRET_KEY=old)
    lanner("secret", "set", "acme.sales", "B", stdin="beta", LANNER_SECRET_KEY=old)
    wrong = lanner("secret", "rotate", stdin=stranger + "\n", check=False, LANNER_SECRET_KEY=new)
    assert wrong.returncode == 1 and b"neither key" in wrong.stderr  # nothing half-done
    done = lanner("secret", "rotate", "--old-key-stdin", stdin=old + "\n", LANNER_SECRET_KEY=new)
    assert b"2 secret(s) re-encrypted" in done.stdout
    again = lanner("secret", "rotate", stdin=old + "\n", LANNER_SECRET_KEY=new)  # idempotent
    assert b"0 secret(s)" in again.stdout
    from engine.identity.crypto import key_from_text

    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT name, ciphertext, key_id FROM namespace_secret")).all()
    engine.dispose()
    current = key_from_text(new)
    assert {name: current.decrypt(text, key_id) for name, text, key_id in rows} == {"A": "alpha", "B": "beta"}
