"""The namespace hierarchy (engine/core/namespaces.py), in Python and as an SQL condition on a real database."""

from __future__ import annotations

import pytest
import sqlalchemy
from alembic import command
from sqlalchemy import Engine, func
from sqlmodel import SQLModel, select

from engine.core.namespaces import ancestors, is_within, lineage, root, subtree_condition
from engine.store.database import alembic_config, open_database, session_scope
from engine.store.tables import NAMESPACE_TYPE, Execution, Namespace
from tests.support.postgres import throwaway_database


def test_ancestors_and_lineage_are_the_same_path_in_opposite_orders():
    assert ancestors("acme") == ["acme"]
    assert ancestors("acme.sales.eu") == ["acme", "acme.sales", "acme.sales.eu"]
    assert lineage("acme.sales.eu") == ["acme.sales.eu", "acme.sales", "acme"]
    assert root("acme.sales.eu") == "acme" and root("acme") == "acme"


def test_within_means_itself_or_below_never_a_longer_name():
    assert is_within("acme", "acme") and is_within("acme.sales.eu", "acme.sales")
    assert not is_within("acme.salesforce", "acme.sales") and not is_within("acme", "acme.sales")


def _assert_the_sql_subtree_matches_is_within(database: Engine) -> None:
    names = ["acme", "acme.sales", "acme.sales.eu", "acme.salesforce", "acme_sales", "acme_sales.x", "globex"]
    # Around the edges of the range ['acme.sales.', 'acme.sales/'): the bytes just before and after the dot, and
    # punctuation that a linguistic collation (ICU's en-US) sorts between '.' and '/', or before '.'
    names += [
        "acme.sales-x",
        "acme.sales/x",
        "acme.sales0",
        "acme.sales.%",
        "acme.sales._",
        "acme.salesé",
        "acme.sales.é",
        "acme.sales(x",
        "acme.sales@x",
        "acme.sales*x",
        "acme.sales'x",
        "acme.sales,x",
        "acme.salesX",
        "ACME.sales.x",
    ]
    with session_scope(database) as session:
        session.add_all(Namespace(name=name) for name in names)
    tops = ("acme", "acme.sales", "acme_sales", "globex", "acme%", "acme.sales.eu", "acme.sales-x")
    for top in tops + tops[::-1]:  # the same statement with other values: its cached form binds each top's own
        with session_scope(database) as session:
            found = set(session.exec(select(Namespace.name).where(subtree_condition(Namespace.name, top))))
        assert found == {name for name in names if is_within(name, top)}, top


def test_the_sql_subtree_matches_is_within(database):
    _assert_the_sql_subtree_matches_is_within(database)


@pytest.mark.postgres
def test_the_sql_subtree_matches_is_within_in_a_linguistic_postgres_database(postgres_server):
    """A database created with a linguistic collation (ICU's en-US) sorts punctuation apart from its bytes: the
    namespace columns are in the C collation (migration 0025), or the range would take in ``acme.sales@x``."""
    with postgres_server.connect() as connection:
        icu = connection.execute(sqlalchemy.text("SELECT 1 FROM pg_collation WHERE collname = 'en-US-x-icu'")).all()
    if not icu:
        pytest.skip("this PostgreSQL was built without ICU: no en-US collation to create a database with")
    with throwaway_database(postgres_server, "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'") as url:
        engine = open_database(url)
        try:
            _assert_the_sql_subtree_matches_is_within(engine)
        finally:
            engine.dispose()


def test_every_namespace_column_compares_by_bytes(database):
    """A new table's namespace column declared without ``namespace_field`` would sort and range apart from the
    others on PostgreSQL (and its subtree condition would miss or take in names there)."""
    declared = [
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if column.name == "namespace" or (table.name, column.name) == ("namespace", "name")
    ]
    assert len(declared) >= 17
    for table, column in declared:
        assert SQLModel.metadata.tables[table].columns[column].type is NAMESPACE_TYPE, (table, column)
    if database.dialect.name == "postgresql":
        with database.connect() as connection:
            collations = dict(
                connection.execute(
                    sqlalchemy.text(
                        "SELECT table_name || '.' || column_name, collation_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema()"
                    )
                ).all()
            )
        assert {f"{t}.{c}": collations[f"{t}.{c}"] for t, c in declared} == {f"{t}.{c}": "C" for t, c in declared}


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


@pytest.mark.postgres
def test_postgres_finds_a_subtree_through_the_namespace_index(postgres_server):
    """``LIKE 'acme.%'`` is answered from no index in PostgreSQL's usual collations: a one-team viewer's executions
    page counted by reading every execution's index entry (0.55 s at 1,000,000 executions)."""
    with throwaway_database(postgres_server) as url:
        engine = open_database(url)
        with engine.begin() as connection:  # 40 teams' history, analyzed: the plan a real installation gets
            connection.execute(
                sqlalchemy.insert(Execution),
                [
                    {"id": f"e{n}", "namespace": f"team{n % 40}.sub{n % 3}", "flow_id": f"flow{n % 7}",
                     "flow_revision": 1, "state": "SUCCESS", "inputs": {}, "outputs": {}, "labels": {}}
                    for n in range(20_000)
                ],
            )  # fmt: skip
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sqlalchemy.text("VACUUM ANALYZE execution"))
        statement = select(func.count()).select_from(Execution).where(subtree_condition(Execution.namespace, "team7"))
        with engine.connect() as connection:
            compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))
        engine.dispose()
    # One range of the index, read in one pass: an OR of two ranges had PostgreSQL read the whole index
    assert "Index Only Scan using ix_execution_flow_created" in plan, plan
    assert "Index Cond: ((namespace >= 'team7'::text) AND (namespace < 'team7/'::text))" in plan, plan
    assert "BitmapOr" not in plan, plan


@pytest.mark.postgres
def test_the_byte_order_migration_keeps_every_trigger_and_goes_back(postgres_server):
    """PostgreSQL retypes no column a trigger names: migration 0025 drops task_run's triggers and creates them again."""
    triggers = sqlalchemy.text(
        "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal "
        "ORDER BY 1, 2"
    )
    collation = sqlalchemy.text(
        "SELECT collation_name FROM information_schema.columns WHERE table_name = 'task_run' AND column_name = 'namespace'"
    )
    statistics = sqlalchemy.text(
        "SELECT count(*) FROM pg_stats WHERE tablename = 'execution' AND attname = 'namespace'"
    )
    with throwaway_database(postgres_server) as url:
        engine = open_database(url)
        with session_scope(engine) as session:
            session.add_all(
                Execution(id=f"e{n}", namespace=f"acme.team{n % 3}", flow_id="etl", flow_revision=1, state="SUCCESS")
                for n in range(30)
            )
        with engine.connect() as connection:
            before = connection.execute(triggers).all()
        command.downgrade(alembic_config(url), "0024")
        with engine.connect() as connection:
            assert connection.execute(triggers).all() == before
            assert connection.execute(collation).scalar() is None
        command.upgrade(alembic_config(url), "head")
        with engine.connect() as connection:
            assert connection.execute(triggers).all() == before
            assert connection.execute(collation).scalar() == "C"
            # Retyping dropped the column's statistics: the migration gathers them again, or plans go blind
            assert connection.execute(statistics).scalar() == 1
        engine.dispose()
    assert any(name == "task_run_day_stale_update" for _, name, _ in before)
