"""The KV store's rules on a real database (SQLite and PostgreSQL): keys, values, expiry, inheritance."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from engine.core.expressions import ExpressionError, render
from engine.store import kv as kv_store
from engine.store.database import session_scope
from engine.store.tables import utcnow
from engine.workspace import kv


def _set(database, namespace: str, key: str, value, **options):
    with session_scope(database) as session:
        return kv.set_entry(session, namespace, key, value, actor="ana", **options)


def _get(database, namespace: str, key: str):
    with session_scope(database) as session:
        row = kv.get_entry(session, namespace, key)
        return None if row is None else (row.namespace, row.value)


def test_values_keep_their_json_type(database):
    values = {"text": "hello", "n": 42, "pi": 3.5, "flag": False, "obj": {"a": [1, 2]}, "list": ["x"], "nothing": None}
    for key, value in values.items():
        _set(database, "acme", key, value)
    with session_scope(database) as session:
        rows = {row.key: (row.value, row.type) for row in kv.entries(session, "acme")}
    assert rows == {
        "text": ("hello", "string"),
        "n": (42, "number"),
        "pi": (3.5, "number"),
        "flag": (False, "boolean"),
        "obj": ({"a": [1, 2]}, "object"),
        "list": (["x"], "array"),
        "nothing": (None, "null"),
    }


def test_a_child_reads_its_parents_entries_and_its_own_win(database):
    _set(database, "acme", "region", "eu")
    _set(database, "acme", "cursor", 1)
    _set(database, "acme.sales", "cursor", 7)
    assert _get(database, "acme.sales.eu", "region") == ("acme", "eu")  # two levels up
    assert _get(database, "acme.sales.eu", "cursor") == ("acme.sales", 7)  # the nearest wins
    assert _get(database, "acme", "cursor") == ("acme", 1)  # a parent never reads its children's
    assert _get(database, "globex", "region") is None
    with session_scope(database) as session:
        seen = {row.key: row.namespace for row in kv.entries(session, "acme.sales")}
        assert kv.delete_entry(session, "acme.sales", "cursor", actor="ana")
    assert seen == {"cursor": "acme.sales", "region": "acme"}
    assert _get(database, "acme.sales", "cursor") == ("acme", 1)  # the parent's shows through again


def test_an_entry_past_its_ttl_reads_as_absent_and_uncovers_its_parent(database):
    _set(database, "acme", "token", "parent's")
    row = _set(database, "acme.sales", "token", "short-lived", ttl="PT1S")
    assert row.expires_at is not None and dt.timedelta(0) < row.expires_at - utcnow() <= dt.timedelta(seconds=1)
    assert _get(database, "acme.sales", "token") == ("acme.sales", "short-lived")
    time.sleep(1.1)
    assert _get(database, "acme.sales", "token") == ("acme", "parent's")
    with session_scope(database) as session:
        assert [row.namespace for row in kv.entries(session, "acme.sales")] == ["acme"]
        assert not kv.delete_entry(session, "acme.sales", "token")  # expired: there was nothing to delete
    _set(database, "acme.sales", "other", 1, ttl="1s")
    time.sleep(1.1)
    with session_scope(database) as session:
        assert kv.sweep_expired(session) == 1  # the row goes too
        assert kv_store.entry(session, "acme.sales", "other") is None


def test_writing_a_namespace_removes_its_expired_rows(database):
    _set(database, "acme", "old", 1, ttl="1s")
    time.sleep(1.1)
    _set(database, "acme", "new", 2)
    with session_scope(database) as session:
        assert kv_store.entry(session, "acme", "old") is None


def test_expires_at_and_ttl_forms(database):
    later = utcnow() + dt.timedelta(hours=2)
    assert _set(database, "acme", "a", 1, expires_at=later.isoformat()).expires_at == later
    naive = (utcnow() + dt.timedelta(days=1)).replace(tzinfo=None, microsecond=0)
    assert _set(database, "acme", "b", 1, expires_at=naive.isoformat()).expires_at == naive.replace(tzinfo=dt.UTC)
    assert _set(database, "acme", "c", 1, ttl="1h").expires_at - utcnow() > dt.timedelta(minutes=59)
    assert _set(database, "acme", "c", 1).expires_at is None  # set again without a ttl: never expires


@pytest.mark.parametrize(
    ("key", "value", "options", "message"),
    [
        ("bad key", 1, {}, "is not a key"),
        ("", 1, {}, "is not a key"),
        (".hidden", 1, {}, "is not a key"),
        ("k" * 101, 1, {}, "is not a key"),
        ("k", object(), {}, "a value is JSON"),
        ("k", float("nan"), {}, "a value is JSON"),
        ("k", "x" * (1024 * 1024 + 1), {}, "more than the 1048576 allowed"),
        ("k", 1, {"ttl": "soon"}, "is not a duration"),
        ("k", 1, {"ttl": "0s"}, "longer than zero"),
        ("k", 1, {"ttl": "1h", "expires_at": "2099-01-01T00:00:00Z"}, "not both"),
        ("k", 1, {"expires_at": "2000-01-01T00:00:00Z"}, "already past"),
        ("k", 1, {"expires_at": "tomorrow"}, "not an ISO-8601 date"),
    ],
)
def test_bad_keys_values_and_expiries_are_refused_with_a_reason(database, key, value, options, message):
    with pytest.raises(ValueError, match=message):
        _set(database, "acme", key, value, **options)
    with session_scope(database) as session:
        assert kv.entries(session, "acme") == []


def test_overwrite_false_refuses_a_live_key_but_not_an_expired_or_inherited_one(database):
    _set(database, "acme", "once", 1)
    with pytest.raises(kv.KvExists, match="already set in acme"):
        _set(database, "acme", "once", 2, overwrite=False)
    assert _get(database, "acme", "once") == ("acme", 1)
    _set(database, "acme.sales", "once", 3, overwrite=False)  # the parent's does not count
    _set(database, "acme", "brief", 1, ttl="1s")
    time.sleep(1.1)
    _set(database, "acme", "brief", 2, overwrite=False)
    assert _get(database, "acme", "brief") == ("acme", 2)


def test_kv_in_an_expression_reads_lazily_and_says_what_is_missing(database):
    _set(database, "acme", "limit", 10)
    _set(database, "acme.sales", "shape", {"rows": [1, 2]})
    with session_scope(database) as session:
        reader = kv.kv_reader(session, "acme.sales")
    context = {"kv": reader}
    assert render("{{ kv('limit') + 1 }}", context) == 11
    assert render("{{ kv('shape').rows | length }}", context) == 2
    assert render("{{ kv('missing', 'fallback') }}", context) == "fallback"
    assert render("{{ kv('missing', none) is none }}", context) is True
    with pytest.raises(ExpressionError, match=r"kv key 'missing' is not set in namespace acme\.sales or its parents"):
        render("{{ kv('missing') }}", context)


def test_the_migration_creates_the_table_as_the_model_declares(database):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    with database.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in diff if "kv_entry" in str(d)] == []


def test_the_flow_checker_knows_kv_and_suggests_it_for_a_typo():
    from engine.core.expressions import parse_template, unknown_names

    known, _ = parse_template("{{ kv('cursor', 0) + 1 }}")
    assert unknown_names(known) == []
    typo, _ = parse_template("{{ kvv('cursor') }}")
    assert [problem.message for problem in unknown_names(typo)] == ["unknown function 'kvv' (did you mean 'kv'?)"]
