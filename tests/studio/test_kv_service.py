"""The KV page's service and its rows against a real database, without a browser."""

from __future__ import annotations

import pytest

from engine.identity import authz
from engine.identity.policy import Principal, Role
from studio.pages.kv.state import Entry, editable_text
from studio.services import kv

ADMIN = Principal(name="boss", is_admin=True)
EDITOR = Principal(name="eddy", memberships={"acme.sales": Role.EDITOR})
VIEWER = Principal(name="vera", memberships={"acme": Role.VIEWER})
OUTSIDER = Principal(name="otto")


def test_typed_text_becomes_a_json_value_and_comes_back_the_same(db):
    for text, value in [("42", 42), ("true", True), ('{"a": [1]}', {"a": [1]}), ("hello", "hello"), ('"42"', "42")]:
        kv.set_entry(EDITOR, "acme.sales", "k", text)
        [entry] = kv.entries(EDITOR, "acme.sales")
        assert entry.value == value, text
        assert kv.parse_value(editable_text(entry.value)) == value  # Edit then Save keeps it as it was


def test_rows_show_type_preview_expiry_and_where_each_key_is_set(db):
    kv.set_entry(ADMIN, "acme", "region", "eu")
    kv.set_entry(EDITOR, "acme.sales", "big", "[" + ",".join(["1"] * 100) + "]", ttl="1h")
    rows = {row.key: row for row in (Entry.of(view) for view in kv.entries(VIEWER, "acme.sales"))}
    assert rows["region"].own is False and rows["region"].origin == "acme" and rows["region"].expires == "never"
    assert rows["region"].type == "string" and rows["region"].preview == "eu"
    assert rows["big"].own and rows["big"].type == "array" and rows["big"].expires != "never"
    assert len(rows["big"].preview) == 80 and rows["big"].preview.endswith("…")
    assert rows["big"].updated.endswith("by eddy")


def test_only_those_who_may_change_entries_and_bad_input_is_a_message(db):
    with pytest.raises(authz.Forbidden):
        kv.set_entry(VIEWER, "acme.sales", "k", "1")
    with pytest.raises(LookupError):  # an outsider: as if the namespace did not exist
        kv.entries(OUTSIDER, "acme.sales")
    with pytest.raises(ValueError, match="is not a key"):
        kv.set_entry(EDITOR, "acme.sales", "two words", "1")
    with pytest.raises(ValueError, match="is not a duration"):
        kv.set_entry(EDITOR, "acme.sales", "k", "1", ttl="soon")
    assert kv.entries(EDITOR, "acme.sales") == []
    kv.set_entry(EDITOR, "acme.sales", "k", "1")
    assert kv.delete_entry(EDITOR, "acme.sales", "k") and not kv.delete_entry(EDITOR, "acme.sales", "k")
