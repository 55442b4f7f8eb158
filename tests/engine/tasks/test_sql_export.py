"""<family>.export on real databases: every family into each format, PostgreSQL CSV through COPY with bound values."""

from __future__ import annotations

import csv
import decimal
import json

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from engine.storage.address import Address
from engine.tasks.context import ConfigurationError, TaskFailed
from tests.support.sql_families import FAMILIES, family_database


@pytest.fixture(scope="module", params=FAMILIES)
def db(request, tmp_path_factory):
    with family_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield request.param, url


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    with family_database("postgresql", tmp_path_factory.mktemp("pg")) as url:
        yield url


def stored(context, uri: str, tmp_path):
    target = tmp_path / Address.parse(uri).name
    context.storage.get(Address.parse(uri), target)
    return target


def read(path, fmt: str) -> list[dict]:
    if fmt == "CSV":
        options = pa_csv.ConvertOptions(strings_can_be_null=True)  # an empty field: CSV's null
        return pa_csv.read_csv(path, convert_options=options).to_pylist()
    if fmt == "PARQUET":
        return pq.read_table(path).to_pylist()
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("fmt", ["CSV", "JSONL", "PARQUET"])
def test_export_each_family_to_each_format(run_task, db, context, tmp_path, fmt):
    family, url = db
    table = f"exp_{fmt.lower()}"
    run_task(
        f"{family}.query",
        url=url,
        sql=f"CREATE TABLE {table} (id INTEGER, store VARCHAR(60), amount DECIMAL(10, 2));"
        f"INSERT INTO {table} VALUES (1, 'paris', 10.50), (2, :evil, 4.25), (3, 'lyon', NULL)",
        parameters={"evil": "o'hara\"; DROP TABLE x; --"},
    )
    outputs = run_task(
        f"{family}.export",
        url=url,
        sql=f"SELECT id, store, amount FROM {table} WHERE id <= :top ORDER BY id",
        parameters={"top": 3},
        format=fmt.lower(),
    )
    assert outputs["rows"] == 3 and outputs["format"] == fmt
    assert outputs["uri"].endswith(f"/task/1/export.{fmt.lower()}")
    rows = read(stored(context, outputs["uri"], tmp_path), fmt)
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert [r["store"] for r in rows] == ["paris", "o'hara\"; DROP TABLE x; --", "lyon"]
    amounts = [None if r["amount"] is None else decimal.Decimal(str(r["amount"])) for r in rows]
    assert amounts == [decimal.Decimal("10.5"), decimal.Decimal("4.25"), None]


def test_postgresql_csv_goes_through_copy_with_values_quoted(run_task, postgres, context, tmp_path):
    run_task(
        "postgresql.query",
        url=postgres,
        sql="CREATE TABLE orders (id INT, store TEXT, note TEXT, share NUMERIC(6, 2));"
        "INSERT INTO orders SELECT i, 'store ' || (i % 3), CASE WHEN i = 2 THEN E'two\\nlines, \"quoted\"' END, i / 4.0"
        " FROM generate_series(1, 5) AS i",
    )
    evil = "store 1') TO STDOUT; DROP TABLE orders; --"
    outputs = run_task(
        "postgresql.export",
        url=postgres,
        sql="SELECT id, note, share, '100%' AS pct FROM orders WHERE store = :store OR store = :evil OR id = :id"
        " ORDER BY id",
        parameters={"store": "store 2", "evil": evil, "id": 3},
        fileName="orders.csv",
    )
    assert outputs == {"uri": outputs["uri"], "rows": 3, "format": "CSV"}
    assert outputs["uri"].endswith("/orders.csv")
    with stored(context, outputs["uri"], tmp_path).open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert rows == [
        {"id": "2", "note": 'two\nlines, "quoted"', "share": "0.50", "pct": "100%"},
        {"id": "3", "note": "", "share": "0.75", "pct": "100%"},
        {"id": "5", "note": "", "share": "1.25", "pct": "100%"},
    ]
    assert run_task("postgresql.query", url=postgres, sql="SELECT COUNT(*) AS n FROM orders", fetch="ONE")["row"] == {
        "n": 5
    }
    # Statements before the exported one run first, in the same transaction.
    context.attempt += 1  # another run of the task: a file name is kept once per attempt
    staged = run_task(
        "postgresql.export",
        url=postgres,
        sql="CREATE TEMPORARY TABLE picked AS SELECT id FROM orders WHERE id > :low; SELECT * FROM picked ORDER BY id",
        parameters={"low": 3},
    )
    assert staged["rows"] == 2
    assert stored(context, staged["uri"], tmp_path).read_text() == "id\n4\n5\n"


def test_postgresql_export_errors_are_task_errors(run_task, postgres):
    with pytest.raises(TaskFailed, match='relation "missing" does not exist'):
        run_task("postgresql.export", url=postgres, sql="SELECT * FROM missing")
    with pytest.raises(ConfigurationError, match="a value is required for the parameter :day"):
        run_task("postgresql.export", url=postgres, sql="SELECT :day AS day")
    with pytest.raises(ConfigurationError, match="returns no rows"):
        run_task("sqlite.export", sql="CREATE TABLE t (a INT)")
    with pytest.raises(ValueError, match="fileName"):
        run_task("sqlite.export", sql="SELECT 1", fileName="../escape.csv")
