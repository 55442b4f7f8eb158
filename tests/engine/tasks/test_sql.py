"""sql.query on real databases: a SQLite file, and PostgreSQL when reachable."""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3

import pytest

from engine.core.states import State
from engine.tasks.context import TaskFailed
from engine.tasks.sql import json_safe
from tests.support.ids import unique
from tests.support.ports import free_port


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'shop.db'}"


def test_create_insert_and_select_on_a_sqlite_file(run_task, sqlite_url, tmp_path, context):
    created = run_task(
        "sql.query", url=sqlite_url, sql="CREATE TABLE sales (store TEXT, amount NUMERIC, day DATE)", fetch="NONE"
    )
    assert set(created) == {"rowcount"}
    for store, amount in (("paris", 10.5), ("lyon", 4), ("paris", 1.5)):
        inserted = run_task(
            "sql.query",
            url=sqlite_url,
            sql="INSERT INTO sales VALUES (:store, :amount, :day)",
            parameters={"store": store, "amount": amount, "day": "2026-03-01"},
        )
        assert inserted == {"rowcount": 1, "rows": [], "size": 0}  # no rows to return: the row keys stay, empty

    every = run_task(
        "sql.query", url=sqlite_url, sql="SELECT store, SUM(amount) AS total FROM sales GROUP BY store ORDER BY store"
    )
    assert every == {"rows": [{"store": "lyon", "total": 4}, {"store": "paris", "total": 12.0}], "size": 2}

    one = run_task(
        "sql.query",
        url=sqlite_url,
        sql="SELECT COUNT(*) AS n FROM sales WHERE store = :store",
        parameters={"store": "paris"},
        fetch="ONE",
    )
    assert one == {"row": {"n": 2}, "size": 1}
    nothing = run_task("sql.query", url=sqlite_url, sql="SELECT * FROM sales WHERE store = 'nice'", fetch="ONE")
    assert nothing == {"row": None, "size": 0}

    changed = run_task("sql.query", url=sqlite_url, sql="DELETE FROM sales WHERE store = 'paris'", fetch="NONE")
    assert changed == {"rowcount": 2}
    # Committed: another connection sees the change.
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        assert connection.execute("SELECT COUNT(*) FROM sales").fetchone() == (1,)
    assert [r.message for r in context.records][-1].endswith("shop.db: 2 row(s) changed")


def test_max_rows_keeps_the_first_rows_and_warns(run_task, sqlite_url, context):
    query = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) SELECT i FROM n"
    outputs = run_task("sql.query", url=sqlite_url, sql=query, maxRows=20)
    assert outputs["size"] == 20 and outputs["rows"][-1] == {"i": 20}
    assert context.warned and "more than 20 rows" in context.records[0].message
    exact = run_task("sql.query", url=sqlite_url, sql=query.replace("< 50", "< 20"), maxRows=20)
    assert exact["size"] == 20


def test_sql_errors_fail_with_the_database_message_only(run_task, sqlite_url):
    with pytest.raises(TaskFailed) as failed:
        run_task("sql.query", url=sqlite_url, sql="SELEC 1")
    assert str(failed.value) == 'the SQL statement failed: near "SELEC": syntax error'
    with pytest.raises(TaskFailed, match="no such table: missing"):
        run_task("sql.query", url=sqlite_url, sql="SELECT * FROM missing")
    with pytest.raises(TaskFailed) as failed:
        run_task("sql.query", url=sqlite_url, sql="SELECT :day")
    assert str(failed.value) == "the SQL statement failed: A value is required for bind parameter 'day'"


def test_connection_errors_name_the_server_but_not_the_password(run_task):
    port = free_port()  # nothing listens there
    with pytest.raises(TaskFailed) as failed:
        run_task("sql.query", url=f"postgresql+psycopg://ana:s3cr3t-pw@127.0.0.1:{port}/shop", sql="SELECT 1")
    message = str(failed.value)
    assert message.startswith(f"could not connect to postgresql+psycopg://ana:***@127.0.0.1:{port}/shop: ")
    assert "s3cr3t-pw" not in message and "Traceback" not in message
    with pytest.raises(TaskFailed, match="no database driver for oracle\\+nope"):
        run_task("sql.query", url="oracle+nope://ana:s3cr3t-pw@db/shop", sql="SELECT 1")
    with pytest.raises(TaskFailed) as failed:
        run_task("sql.query", url="s3cr3t-pw is no URL", sql="SELECT 1")
    assert "is not a database URL" in str(failed.value) and "s3cr3t-pw" not in str(failed.value)


def test_values_are_kept_as_json():
    row = {
        "day": dt.date(2026, 3, 1),
        "at": dt.datetime(2026, 3, 1, 6, 30, tzinfo=dt.UTC),
        "amount": decimal.Decimal("10.10"),
        "raw": b"\x00\x01",
        "tags": ("a", 1),
        "n": 3,
        "none": None,
    }
    assert json_safe(row) == {
        "day": "2026-03-01",
        "at": "2026-03-01T06:30:00+00:00",
        "amount": "10.10",
        "raw": "AAE=",
        "tags": ["a", 1],
        "n": 3,
        "none": None,
    }


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # a fresh database, dropped afterwards
def test_postgresql_types_returning_and_rollback(run_task, database_url):
    run_task(
        "sql.query",
        url=database_url,
        sql="CREATE TABLE orders (id INT PRIMARY KEY, amount NUMERIC(10, 2), day DATE, at TIMESTAMPTZ, meta JSONB)",
    )
    inserted = run_task(
        "sql.query",
        url=database_url,
        sql="INSERT INTO orders VALUES (:id, :amount, :day, :at, CAST(:meta AS JSONB)) RETURNING id, amount, day",
        parameters={
            "id": 1,
            "amount": "19.90",
            "day": dt.date(2026, 3, 1),
            "at": dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC),
            "meta": '{"store": "paris"}',
        },
        fetch="ONE",
    )
    assert inserted == {"row": {"id": 1, "amount": "19.90", "day": "2026-03-01"}, "size": 1}
    with pytest.raises(TaskFailed, match="duplicate key value violates unique constraint"):
        run_task("sql.query", url=database_url, sql="INSERT INTO orders (id) VALUES (2), (1)", fetch="NONE")
    rows = run_task("sql.query", url=database_url, sql="SELECT id, at, meta FROM orders ORDER BY id")
    # The failed statement was rolled back as a whole: order 2 is not there.
    assert rows == {"rows": [{"id": 1, "at": "2026-03-01T06:00:00+00:00", "meta": {"store": "paris"}}], "size": 1}
    with pytest.raises(TaskFailed, match='syntax error at or near "SELEC"'):
        run_task("sql.query", url=database_url, sql="SELEC 1")


@pytest.mark.slow
def test_sql_query_in_a_flow_reads_its_url_from_a_secret(cluster_factory, tmp_path):
    url = f"sqlite:///{tmp_path / 'report.db'}"
    cluster = cluster_factory()
    cluster.env["LANNER_SECRET_REPORT_DB"] = url
    cluster.start_executor()
    cluster.start_workers(1)
    execution_id = cluster.run(
        f"id: {unique('sql')}\nnamespace: test\n"
        "inputs:\n  - {id: store, type: STRING}\n"
        "tasks:\n"
        "  - {id: create, type: sql.query, url: \"{{ secret('REPORT_DB') }}\", fetch: NONE,"
        " sql: 'CREATE TABLE sales (store TEXT, amount REAL)'}\n"
        "  - id: insert\n    type: sql.query\n    url: \"{{ secret('REPORT_DB') }}\"\n"
        "    sql: INSERT INTO sales VALUES (:store, :amount)\n"
        "    parameters: {store: '{{ inputs.store }}', amount: 12.5}\n"
        "  - {id: report, type: sql.query, url: \"{{ secret('REPORT_DB') }}\", sql: 'SELECT * FROM sales'}\n"
        "  - {id: count, type: log, message: '{{ outputs.report.size }} row(s) for {{ outputs.report.rows[0].store }}'}\n"
        "  - {id: broken, type: sql.query, url: \"{{ secret('REPORT_DB') }}\", sql: 'SELECT * FROM nope'}\n",
        {"store": "paris"},
    )
    assert cluster.wait(execution_id).state == State.FAILED.value
    runs = cluster.runs(execution_id)
    assert runs["insert"].outputs["rowcount"] == 1
    assert runs["report"].outputs == {"rows": [{"store": "paris", "amount": 12.5}], "size": 1}
    assert runs["broken"].error == "the SQL statement failed: no such table: nope"
    lines = [(line.task_id, line.message) for line in cluster.logs(execution_id)]
    assert ("count", "1 row(s) for paris") in lines
    assert ("report", "****: 1 row(s) returned") in lines  # the URL came from a secret: masked in the logs
