"""The namespace hierarchy (engine/core/namespaces.py), in Python and as an SQL condition on a real database."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from engine.core.namespaces import ancestors, is_within, lineage, root, subtree_condition
from engine.store.database import open_database, session_scope
from engine.store.tables import Execution, Namespace


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
    # Around the edges of SQLite's range ['acme.sales.', 'acme.sales/'): the bytes just before and after the dot
    names += [
        "acme.sales-x",
        "acme.sales/x",
        "acme.sales0",
        "acme.sales.%",
        "acme.sales._",
        "acme.salesé",
        "acme.sales.é",
    ]
    with session_scope(database) as session:
        session.add_all(Namespace(name=name) for name in names)
    tops = ("acme", "acme.sales", "acme_sales", "globex", "acme%", "acme.sales.eu", "acme.sales-x")
    for top in tops + tops[::-1]:  # the same statement with other values: its cached form binds each top's own
        with session_scope(database) as session:
            found = set(session.exec(select(Namespace.name).where(subtree_condition(Namespace.name, top))))
        assert found == {name for name in names if is_within(name, top)}, top


def test_sqlite_finds_a_subtree_through_the_namespace_index(tmp_path):
    """A LIKE on a case-sensitive column is never answered from an index by SQLite: every listing filtered by
    namespace, and every reader's access condition, would read the whole table (137 ms for one team's count at
    1,000,000 executions)."""
    engine = open_database(f"sqlite:///{tmp_path / 'lanner.db'}")
    statement = select(func.count()).select_from(Execution).where(subtree_condition(Execution.namespace, "acme"))
    with engine.connect() as connection:
        compiled = statement.compile(engine)
        values = tuple(compiled.params[name] for name in compiled.positiontup)
        plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)]
    assert any("SEARCH execution USING COVERING INDEX" in step and "namespace>? AND namespace<?" in step
               for step in plan), plan  # fmt: skip
    assert not any(step.startswith("SCAN execution") for step in plan), plan
    engine.dispose()
