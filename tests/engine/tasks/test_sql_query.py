"""<family>.query on real databases: PostgreSQL and MariaDB servers (a private database for this module), SQLite and
DuckDB files. Each fetch mode, several statements in one transaction, parameters that stay data, STORE files."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import subprocess
import sys
import textwrap

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from engine.tasks.context import ConfigurationError, TaskFailed
from tests.support.ports import free_port
from tests.support.postgres import POSTGRES_URL
from tests.support.sql_families import MARIADB_URL, family_database, stored

SALES = (
    "CREATE TABLE {t} (id INTEGER PRIMARY KEY, store VARCHAR(60), amount DECIMAL(10, 2), day DATE, note VARCHAR(40))"
)


def read_csv(path) -> list[dict]:
    """A CSV file's rows, an empty field as null (CSV has no other way to write one)."""
    return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True)).to_pylist()


def number(value):
    return None if value is None else decimal.Decimal(str(value)).quantize(decimal.Decimal("0.01"))


def fill(run_task, family, url, table):
    """The table, three rows in it, by one task of several statements (each gets only the parameters it names)."""
    return run_task(
        f"{family}.query",
        url=url,
        fetch="none",
        sql=f"{SALES.format(t=table)};\n"
        f"INSERT INTO {table} VALUES (1, :store, 10.50, '2026-11-28', NULL);\n"
        f"INSERT INTO {table} VALUES (2, :other, 4.25, '2026-11-28', NULL);\n"
        f"INSERT INTO {table} VALUES (3, :store, 1.25, '2026-11-29', 'late; -- not a comment');",
        parameters={"store": "paris", "other": "lyon", "unused": 1},
    )


def test_each_fetch_mode_after_several_statements(run_task, sql_database, context):
    family, url = sql_database
    created = fill(run_task, family, url, "modes")
    assert created == {"rowcount": 3}
    every = run_task(
        f"{family}.query",
        url=url,
        sql="SELECT store, SUM(amount) AS total FROM modes WHERE day >= :day GROUP BY store ORDER BY store",
        parameters={"day": dt.date(2026, 11, 28)},
        fetch="all",
    )
    assert every["size"] == 2
    assert [(r["store"], number(r["total"])) for r in every["rows"]] == [
        ("lyon", decimal.Decimal("4.25")),
        ("paris", decimal.Decimal("11.75")),
    ]
    one = run_task(
        f"{family}.query", url=url, sql="SELECT note FROM modes WHERE id = :id", parameters={"id": 3}, fetch="ONE"
    )
    assert one == {"row": {"note": "late; -- not a comment"}, "size": 1}
    # The outputs come from the last statement that returns rows; an UPDATE after it does not replace them.
    last = run_task(
        f"{family}.query",
        url=url,
        sql="SELECT id FROM modes WHERE id = 1; SELECT id FROM modes WHERE id > 1 ORDER BY id; "
        "UPDATE modes SET note = 'seen' WHERE id = 2",
    )
    assert last == {"rows": [{"id": 2}, {"id": 3}], "size": 2}
    assert run_task(f"{family}.query", url=url, sql="SELECT note FROM modes WHERE id = 2", fetch="ONE")["row"] == {
        "note": "seen"
    }
    cut = run_task(f"{family}.query", url=url, sql="SELECT id FROM modes ORDER BY id", maxRows=2)
    assert cut == {"rows": [{"id": 1}, {"id": 2}], "size": 2} and context.warned


def test_statements_run_in_one_transaction(run_task, sql_database):
    family, url = sql_database
    fill(run_task, family, url, "atomic")
    with pytest.raises(TaskFailed, match="the SQL statement failed"):
        run_task(
            f"{family}.query",
            url=url,
            sql="DELETE FROM atomic WHERE id = 1; INSERT INTO atomic (id) VALUES (2)",  # a duplicate key
        )
    # The DELETE before the failing statement was rolled back with it.
    assert run_task(f"{family}.query", url=url, sql="SELECT COUNT(*) AS n FROM atomic", fetch="ONE")["row"] == {"n": 3}


def test_parameters_that_look_like_sql_stay_values(run_task, sql_database):
    family, url = sql_database
    evil = "x'; DROP TABLE guarded; --"
    run_task(
        f"{family}.query",
        url=url,
        sql="CREATE TABLE guarded (name VARCHAR(80)); INSERT INTO guarded VALUES (:name)",
        parameters={"name": evil},
    )
    found = run_task(
        f"{family}.query", url=url, sql="SELECT name FROM guarded WHERE name = :name", parameters={"name": evil}
    )
    assert found == {"rows": [{"name": evil}], "size": 1}
    run_task(
        f"{family}.query",
        url=url,
        sql="SELECT * FROM guarded WHERE name = :n",
        parameters={"n": "'; DROP TABLE guarded; --"},
    )
    assert run_task(f"{family}.query", url=url, sql="SELECT COUNT(*) AS n FROM guarded", fetch="ONE")["row"] == {"n": 1}


@pytest.mark.parametrize("fmt", ["CSV", "jsonl", "PARQUET"])
def test_store_writes_every_row_in_each_format(run_task, sql_database, context, tmp_path, fmt):
    family, url = sql_database
    table = f"store_{fmt.lower()}"
    fill(run_task, family, url, table)
    outputs = run_task(f"{family}.query", url=url, sql=f"SELECT * FROM {table} ORDER BY id", fetch="STORE", format=fmt)
    assert outputs["rows"] == outputs["size"] == 3 and outputs["format"] == fmt.upper()
    assert outputs["uri"].startswith("lanner://acme/flow/execution/task/1/result.")
    path = stored(context, outputs["uri"], tmp_path)
    if fmt == "CSV":
        rows = read_csv(path)
    elif fmt == "PARQUET":
        rows = pq.read_table(path).to_pylist()
    else:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert [r["store"] for r in rows] == ["paris", "lyon", "paris"]
    assert [number(r["amount"]) for r in rows] == [number("10.50"), number("4.25"), number("1.25")]
    assert [str(r["day"])[:10] for r in rows] == ["2026-11-28", "2026-11-28", "2026-11-29"]
    assert [r["note"] for r in rows] == [None, None, "late; -- not a comment"]
    context.attempt += 1  # another run of the task: a file name is kept once per attempt
    empty = run_task(f"{family}.query", url=url, sql=f"SELECT id FROM {table} WHERE id < 0", fetch="STORE", format=fmt)
    assert empty["rows"] == 0


def test_store_keeps_postgresql_types_and_a_late_column_across_batches(run_task, context, tmp_path, tmp_path_factory):
    with family_database("postgresql", tmp_path_factory.mktemp("pg")) as url:
        sql = (
            "SELECT i AS id, gen_random_uuid() AS key, CAST(i AS NUMERIC(12, 3)) / 8 + 0.125 AS share,"
            " DATE '2026-01-01' + i AS day, jsonb_build_object('n', i) AS meta,"
            " CASE WHEN i > 30000 THEN 'late ' || i END AS late FROM generate_series(1, 45000) AS i"
        )
        outputs = run_task("postgresql.query", url=url, sql=sql, fetch="STORE", format="PARQUET")
        table = pq.read_table(stored(context, outputs["uri"], tmp_path))
        assert outputs["rows"] == table.num_rows == 45000
        last = table.slice(44999).to_pylist()[0]
        assert last["share"] == decimal.Decimal("5625.125") and last["day"] == dt.date(2026, 1, 1) + dt.timedelta(45000)
        assert json.loads(last["meta"]) == {"n": 45000} and len(last["key"]) == 36 and last["late"] == "late 45000"
        context.attempt += 1
        csv_out = run_task("postgresql.query", url=url, sql=sql, fetch="STORE")
        rows = read_csv(stored(context, csv_out["uri"], tmp_path))
        assert len(rows) == 45000 and rows[0]["late"] is None and rows[-1]["late"] == "late 45000"


def test_connection_errors_name_host_and_database_not_the_password(run_task):
    port = free_port()
    with pytest.raises(TaskFailed) as failed:
        run_task(
            "postgresql.query",
            connection={
                "host": "127.0.0.1",
                "port": port,
                "database": "shop",
                "username": "ana",
                "password": "pw-s3cr3t",
            },
            sql="SELECT 1",
        )
    message = str(failed.value)
    assert message.startswith(f"could not connect to postgresql+psycopg://ana:***@127.0.0.1:{port}/shop: ")
    assert "pw-s3cr3t" not in message
    mariadb = MARIADB_URL.replace("root@", "root:wr0ng-pw@")
    with pytest.raises(TaskFailed) as failed:
        run_task("mysql.query", url=mariadb, sql="SELECT 1")
    message = str(failed.value)
    assert "could not connect to mysql+pymysql://root:***@127.0.0.1:3306/test" in message
    assert "wr0ng-pw" not in message and "Access denied" in message


def test_a_url_of_another_family_is_a_configuration_error(run_task):
    with pytest.raises(ConfigurationError, match=r"url names a mysql database; a postgresql\.query task connects to"):
        run_task("postgresql.query", url="mysql://root:pw@db/shop", sql="SELECT 1")
    with pytest.raises(ConfigurationError, match=r"a sqlite\.query task connects to SQLite"):
        run_task("sqlite.query", url=POSTGRES_URL, sql="SELECT 1")
    with pytest.raises(ConfigurationError, match="sql holds no statement"):
        run_task("sqlite.query", sql=" ; -- nothing\n")
    with pytest.raises(ValueError, match="fetch"):
        run_task("sqlite.query", sql="SELECT 1", fetch="MANY")


MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, tempfile
    from pathlib import Path
    from engine.storage.local import LocalStorage
    from engine.tasks import registry
    from engine.tasks.context import RunContext

    url, fmt = sys.argv[1], sys.argv[2]
    root = Path(tempfile.mkdtemp())
    (root / "work").mkdir()
    ctx = RunContext(task_id="t", execution_id="e", folder=root / "work", storage=LocalStorage(root / "s"),
                     is_killed=lambda: False)
    task = registry.get("postgresql.query").model_validate({"id": "t", "type": "postgresql.query", "url": url,
        "sql": "SELECT 1", "fetch": "STORE", "format": fmt})
    task.run(ctx)  # imports and first connection: what the task costs before any row
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    task = task.model_copy(update={"sql": "SELECT i AS id, 'store ' || (i % 97) AS store, i * 1.25 AS amount,"
        " DATE '2026-01-01' + (i % 365) AS day FROM generate_series(1, 1000000) AS i"})
    ctx.attempt = 2  # a second run: its own file
    out = task.run(ctx)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": out["rows"], "grew_mb": (after - before) / 1024}))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["CSV", "PARQUET"])
def test_storing_a_million_rows_keeps_memory_bounded(tmp_path_factory, fmt):
    with family_database("postgresql", tmp_path_factory.mktemp("pg")) as url:
        done = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, url, fmt],
            capture_output=True,
            text=True,
            timeout=240,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["rows"] == 1_000_000
    assert figures["grew_mb"] < 150, figures
