"""The namespace hierarchy (engine/core/namespaces.py), in Python and as an SQL condition on a real database."""

from __future__ import annotations

from sqlmodel import select

from engine.core.namespaces import ancestors, is_within, lineage, root, subtree_condition
from engine.store.database import session_scope
from engine.store.tables import Namespace


def test_ancestors_and_lineage_are_the_same_path_in_opposite_orders():
    assert ancestors("acme") == ["acme"]
    assert ancestors("acme.sales.eu") == ["acme", "acme.sales", "acme.sales.eu"]
    assert lineage("acme.sales.eu") == ["acme.sales.eu", "acme.sales", "acme"]
    assert root("acme.sales.eu") == "acme" and root("acme") == "acme"


def test_within_means_itself_or_below_never_a_longer_name():
    assert is_within("acme", "acme") and is_within("acme.sales.eu", "acme.sales")
    assert not is_within("acme.salesforce", "acme.sales") and not is_within("acme", "acme.sales")


def test_the_sql_subtree_matches_is_within(database):
    names = ["acme", "acme.sales", "acme.sales.eu", "acme.salesforce", "acme_sales", "acme_sales.x", "globex"]
    with session_scope(database) as session:
        session.add_all(Namespace(name=name) for name in names)
    for top in ("acme", "acme.sales", "acme_sales", "globex", "acme%"):
        with session_scope(database) as session:
            found = set(session.exec(select(Namespace.name).where(subtree_condition(Namespace.name, top))))
        assert found == {name for name in names if is_within(name, top)}, top
