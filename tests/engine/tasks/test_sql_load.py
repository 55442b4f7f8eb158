"""<family>.load on real databases: PostgreSQL (a private database), MariaDB (a private database), SQLite and DuckDB
files; input files made with pyarrow and kept in the context's storage, as an earlier task would have."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.pool import NullPool

from engine.tasks.context import ConfigurationError, RunContext, TaskFailed
from tests.support.ids import unique
from tests.support.postgres import POSTGRES_URL, postgres_admin

MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
FAMILIES = (pytest.param("postgresql", marks=pytest.mark.postgres), "mysql", "sqlite", "duckdb")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    admin = postgres_admin()
    if admin is None:
        pytest.skip(f"no PostgreSQL server at {POSTGRES_URL}")
    name = f"lanner_load_{unique()}".lower().replace("-", "_")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def mariadb_url() -> Iterator[str]:
    admin = sa.create_engine(MARIADB_URL, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception:
        pytest.skip(f"no MariaDB/MySQL server at {MARIADB_URL}")
    name = f"lanner_load_{unique()}".lower().replace("-", "_")
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE DATABASE `{name}`"))
    yield sa.make_url(MARIADB_URL).set(database=name).render_as_string(hide_password=False)
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP DATABASE `{name}`"))
    admin.dispose()


@pytest.fixture(params=FAMILIES)
def family(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """``(family, url)`` of a database to load into; tables get unique names, so the servers' databases are shared."""
    name = request.param
    if name == "postgresql":
        return name, request.getfixturevalue("postgres_url")
    if name == "mysql":
        return name, request.getfixturevalue("mariadb_url")
    return name, f"{name}:///{tmp_path / ('shop.' + name)}"


def select(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def table_name() -> str:
    return f"sales_{unique()}".lower().replace("-", "_")


def store(context: RunContext, tmp_path: Path, rows: list[dict[str, Any]], fmt: str, schema: Any = None) -> str:
    """Write ``rows`` as a file of format ``fmt`` with pyarrow and keep it: its lanner:// address."""
    table = pa.Table.from_pylist(rows, schema=schema)
    path = tmp_path / f"{unique()}.{fmt}"
    if fmt == "csv":
        pa_csv.write_csv(table, path)
    elif fmt == "parquet":
        pq.write_table(table, path)
    else:
        path.write_text("".join(json.dumps(row, default=str) + "\n" for row in rows), encoding="utf-8")
    return context.store_file(path, path.name)


SALES = pa.schema([("id", pa.int64()), ("store", pa.string()), ("amount", pa.float64())])


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_every_mode_from_every_format(run_task, context, tmp_path, family, fmt):
    kind, url = family
    table = table_name()

    def load(rows: list[dict[str, Any]], **properties: Any) -> dict[str, Any]:
        address = store(context, tmp_path, rows, fmt, SALES)
        return run_task(f"{kind}.load", url=url, table=table, **{"from": address}, **properties)

    first = [{"id": 1, "store": "paris", "amount": 10.5}, {"id": 2, "store": "lyon", "amount": 4.0}]
    assert load(first, keys=["id"]) == {"rows": 2, "table": table}  # creates the table, with a unique key on id
    assert load([{"id": 3, "store": "nice", "amount": 1.25}], mode="append") == {"rows": 1, "table": table}
    ordered = f"SELECT id, store, amount FROM {table} ORDER BY id"
    assert select(url, ordered) == [(1, "paris", 10.5), (2, "lyon", 4.0), (3, "nice", 1.25)]

    replaced = [{"id": 10, "store": "lille", "amount": 2.0}, {"id": 11, "store": "nantes", "amount": 3.0}]
    assert load(replaced, mode="REPLACE")["rows"] == 2
    assert select(url, ordered) == [(10, "lille", 2.0), (11, "nantes", 3.0)]

    # UPSERT updates the row whose key exists instead of adding a second one, and adds the new one.
    changed = [{"id": 11, "store": "nantes", "amount": 30.0}, {"id": 12, "store": "metz", "amount": 5.5}]
    assert load(changed, mode="upsert", keys=["id"], batchSize=1)["rows"] == 2
    assert load(changed, mode="UPSERT", keys=["id"])["rows"] == 2  # again: still no duplicate
    assert select(url, ordered) == [(10, "lille", 2.0), (11, "nantes", 30.0), (12, "metz", 5.5)]
    assert re.search(rf": 2 row\(s\) loaded into {table} \(UPSERT\) in \d+\.\d s$", context.records[-1].message)


TYPED = pa.schema(
    [
        ("id", pa.int64()),
        ("ratio", pa.float64()),
        ("name", pa.string()),
        ("day", pa.date32()),
        ("at", pa.timestamp("us")),
        ("ok", pa.bool_()),
        ("price", pa.decimal128(10, 2)),
    ]
)


def test_create_table_takes_the_file_types(run_task, context, tmp_path, family):
    kind, url = family
    table = table_name()
    row = {
        "id": 7,
        "ratio": 0.5,
        "name": "Zoé",
        "day": dt.date(2026, 11, 28),
        "at": dt.datetime(2026, 11, 28, 9, 30, 15),
        "ok": True,
        "price": decimal.Decimal("12.34"),
    }
    address = store(context, tmp_path, [row], "parquet", TYPED)
    assert run_task(f"{kind}.load", url=url, table=table, **{"from": address}) == {"rows": 1, "table": table}

    if kind == "duckdb":  # duckdb-engine cannot reflect columns (it asks for pg_catalog.pg_collation)
        described = select(
            url, f"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{table}'"
        )
        assert dict(described) == {
            "id": "BIGINT",
            "ratio": "DOUBLE",
            "name": "VARCHAR",
            "day": "DATE",
            "at": "TIMESTAMP",
            "ok": "BOOLEAN",
            "price": "DECIMAL(10,2)",
        }
    else:
        engine = sa.create_engine(url, poolclass=NullPool)
        try:
            columns = {column["name"]: column["type"] for column in sa.inspect(engine).get_columns(table)}
        finally:
            engine.dispose()
        assert isinstance(columns["id"], sa.BigInteger)
        assert isinstance(columns["ratio"], sa.Float)
        assert isinstance(columns["name"], sa.Text)
        assert isinstance(columns["day"], sa.Date)
        assert isinstance(columns["at"], sa.DateTime)
        # MySQL's BOOLEAN is TINYINT(1).
        assert isinstance(columns["ok"], sa.Boolean) or (kind == "mysql" and isinstance(columns["ok"], sa.Integer))
        assert isinstance(columns["price"], sa.Numeric)
        assert (columns["price"].precision, columns["price"].scale) == (10, 2)
    (loaded,) = select(url, f"SELECT * FROM {table}")  # the file's order; "at" is reserved in DuckDB
    if kind == "sqlite":  # SQLite keeps dates and decimals as text and numbers: the values, as it stores them
        assert loaded[:3] == (7, 0.5, "Zoé") and str(loaded[3]) == "2026-11-28" and loaded[5] == 1
        assert str(loaded[4]).startswith("2026-11-28 09:30:15") and float(loaded[6]) == 12.34
    else:
        assert loaded == (7, 0.5, "Zoé", row["day"], row["at"], True, decimal.Decimal("12.34"))


def test_replace_where_deletes_only_the_rows_it_names(run_task, context, tmp_path, family):
    kind, url = family
    table = table_name()
    schema = pa.schema([("day", pa.date32()), ("store", pa.string()), ("amount", pa.int64())])
    days = [
        {"day": dt.date(2026, 11, 27), "store": "paris", "amount": 1},
        {"day": dt.date(2026, 11, 28), "store": "paris", "amount": 2},
        {"day": dt.date(2026, 11, 28), "store": "lyon", "amount": 3},
    ]
    run_task(f"{kind}.load", url=url, table=table, **{"from": store(context, tmp_path, days, "parquet", schema)})
    again = [{"day": dt.date(2026, 11, 28), "store": "paris", "amount": 20}]
    loaded = run_task(
        f"{kind}.load",
        url=url,
        table=table,
        mode="REPLACE",
        replaceWhere={"day": "2026-11-28"},
        **{"from": store(context, tmp_path, again, "parquet", schema)},
    )
    assert loaded["rows"] == 1
    assert select(url, f"SELECT store, amount FROM {table} ORDER BY amount") == [("paris", 1), ("paris", 20)]


def test_a_bad_row_fails_the_load_and_leaves_the_table_as_it_was(run_task, context, tmp_path, family):
    kind, url = family
    table = table_name()
    first = [{"id": 1, "store": "paris", "amount": 1.0}, {"id": 2, "store": "lyon", "amount": 2.0}]
    run_task(f"{kind}.load", url=url, table=table, keys=["id"], **{"from": store(context, tmp_path, first, "csv")})
    # REPLACE deletes both rows, two batches go in, then the fifth row repeats a key the table must keep unique.
    bad = [{"id": n, "store": "x", "amount": 0.0} for n in (10, 11, 12, 13, 10)]
    with pytest.raises(TaskFailed, match=f"loading {table} failed, nothing was loaded: .+"):
        run_task(
            f"{kind}.load",
            url=url,
            table=table,
            mode="REPLACE",
            batchSize=2,
            **{"from": store(context, tmp_path, bad, "csv")},
        )
    assert select(url, f"SELECT id, store FROM {table} ORDER BY id") == [(1, "paris"), (2, "lyon")]


@pytest.mark.parametrize(
    "name", ["sales; DROP TABLE victims", 'sales" --', "sales.x.y", "sales`", "1sales", "sales table"]
)
def test_a_table_name_that_could_carry_sql_is_refused(run_task, context, tmp_path, name):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    address = store(context, tmp_path, [{"id": 1}], "csv")
    with pytest.raises(ConfigurationError, match="is not a table name: use letters, digits and _"):
        run_task("sqlite.load", url=url, table=name, **{"from": address})
    assert not (tmp_path / "shop.db").exists()  # refused before anything was opened


def test_a_missing_or_wrong_file_address_is_told_clearly(run_task, tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    missing = "lanner://acme/flow/execution/extract/1/orders.csv"
    with pytest.raises(TaskFailed, match=f"{missing} does not exist"):
        run_task("sqlite.load", url=url, table="orders", **{"from": missing})
    with pytest.raises(TaskFailed, match="file address"):
        run_task("sqlite.load", url=url, table="orders", **{"from": "/etc/passwd"})


def test_format_from_the_name_or_the_property(run_task, context, tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    path = tmp_path / "orders.txt"
    path.write_text("id,store\n1,paris\n", encoding="utf-8")
    address = context.store_file(path, "orders.txt")
    with pytest.raises(ConfigurationError, match=r"cannot tell the format of orders\.txt from its name: set format"):
        run_task("sqlite.load", url=url, table="orders", **{"from": address})
    assert run_task("sqlite.load", url=url, table="orders", format="csv", **{"from": address})["rows"] == 1
    assert select(url, "SELECT id, store FROM orders") == [(1, "paris")]


def test_a_file_with_columns_and_no_rows_creates_the_table(run_task, context, tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    address = store(context, tmp_path, [], "parquet", SALES)
    assert run_task("sqlite.load", url=url, table="sales", **{"from": address}) == {"rows": 0, "table": "sales"}
    assert select(url, "SELECT COUNT(*) FROM sales") == [(0,)]


def test_upsert_needs_keys_and_replace_where_needs_replace():
    from engine.tasks import registry

    base = {"id": "load", "url": "sqlite://", "from": "lanner://acme/f/e/t/1/a.csv", "table": "sales"}
    with pytest.raises(ValidationError, match="mode UPSERT needs keys"):
        registry.get("sqlite.load").model_validate({**base, "type": "sqlite.load", "mode": "UPSERT"})
    with pytest.raises(ValidationError, match="replaceWhere applies to mode REPLACE only"):
        registry.get("sqlite.load").model_validate({**base, "type": "sqlite.load", "replaceWhere": {"day": "x"}})
    computed = {**base, "type": "sqlite.load", "mode": "{{ inputs.mode }}", "replaceWhere": {"day": "{{ inputs.day }}"}}
    assert registry.get("sqlite.load").model_validate(computed).mode == "{{ inputs.mode }}"  # checked once rendered
    for name in ("sql.load", "postgresql.load", "mysql.load", "sqlite.load", "duckdb.load"):
        schema = registry.json_schema(name)
        assert "from" in schema["properties"] and schema["examples"]
        for example in schema["examples"]:  # ready to use: each is a valid task
            registry.get(name).model_validate(example)


def test_a_load_killed_midway_leaves_the_table_as_it_was(run_task, context, tmp_path, family):
    from engine.tasks.context import TaskKilled

    kind, url = family
    table = table_name()
    run_task(f"{kind}.load", url=url, table=table, **{"from": store(context, tmp_path, [{"id": 1}], "parquet")})
    calls = iter(range(1_000))
    context.is_killed = lambda: next(calls) >= 4  # checks: connecting, the columns, two batches sent, then the kill
    many = [{"id": n} for n in range(2, 12)]
    with pytest.raises(TaskKilled):
        run_task(
            f"{kind}.load",
            url=url,
            table=table,
            mode="REPLACE",
            batchSize=3,
            **{"from": store(context, tmp_path, many, "parquet")},
        )
    assert select(url, f"SELECT id FROM {table}") == [(1,)]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "with-binary"])
def test_nulls_empty_texts_and_awkward_characters_arrive_as_written(run_task, context, tmp_path, family, binary):
    # On PostgreSQL a file without binary columns goes as CSV, one with them row by row: both keep every value.
    kind, url = family
    table = table_name()
    fields = [("id", pa.int64()), ("note", pa.string()), ("at", pa.timestamp("us", tz="UTC"))]
    notes = ["", None, 'say "hi", then\nleave; \\N \\.', "Zoé ✓"]
    at = dt.datetime(2026, 11, 28, 9, 30, 15, 123456, tzinfo=dt.UTC)
    rows = [{"id": n, "note": note, "at": at if n % 2 else None} for n, note in enumerate(notes)]
    if binary:
        fields.append(("data", pa.binary()))
        rows = [{**row, "data": bytes([n, 0, 255]) if n % 2 else None} for n, row in enumerate(rows)]
    address = store(context, tmp_path, rows, "parquet", pa.schema(fields))
    assert run_task(f"{kind}.load", url=url, table=table, **{"from": address})["rows"] == 4
    loaded = select(url, f"SELECT * FROM {table} ORDER BY id")
    assert [row[1] for row in loaded] == notes
    stamps = [row[2] for row in loaded]
    assert stamps[0] is None and stamps[2] is None
    if kind == "postgresql":
        assert stamps[1] == at and stamps[3] == at
    else:  # databases without zones keep the UTC wall time
        assert str(stamps[1]).startswith("2026-11-28 09:30:15")
    if binary:
        assert [None if row[3] is None else bytes(row[3]) for row in loaded] == [
            None,
            bytes([1, 0, 255]),
            None,
            bytes([3, 0, 255]),
        ]


def test_a_file_unreadable_midway_fails_the_load_and_leaves_the_table_as_it_was(
    run_task, context, tmp_path, family, monkeypatch
):
    from engine.tasks.tables import reader

    kind, url = family
    table = table_name()
    run_task(f"{kind}.load", url=url, table=table, **{"from": store(context, tmp_path, [{"id": 1}], "parquet")})
    # Small blocks: the types come from the first lines, as they would from the first 4 MB of a big file.
    monkeypatch.setattr(reader, "BLOCK_BYTES", 64)
    path = tmp_path / "late.csv"
    path.write_text("id\n" + "".join(f"{n}\n" for n in range(2, 60)) + "not a number\n", encoding="utf-8")
    address = context.store_file(path, path.name)
    with pytest.raises(TaskFailed, match=r"could not read late\.csv as CSV after \d+ rows, nothing was loaded: "):
        run_task(f"{kind}.load", url=url, table=table, mode="REPLACE", batchSize=5, **{"from": address})
    assert select(url, f"SELECT id FROM {table}") == [(1,)]


def test_json_lines_are_read_in_chunks_with_the_first_chunk_types(run_task, context, tmp_path, family):
    kind, url = family
    table = table_name()
    lines = [{"id": 1, "note": None}, {"id": 2, "note": None}, {"id": 3, "note": "late"}, {"id": 4}]
    path = tmp_path / "notes.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + "\n", encoding="utf-8")
    address = context.store_file(path, path.name)
    assert run_task(f"{kind}.load", url=url, table=table, batchSize=2, **{"from": address})["rows"] == 4
    assert select(url, f"SELECT id, note FROM {table} ORDER BY id") == [(1, None), (2, None), (3, "late"), (4, None)]
    path = tmp_path / "more.jsonl"
    path.write_text('{"id": 5}\n{"id": 6}\n{"id": 7, "extra": true}\n', encoding="utf-8")
    address = context.store_file(path, path.name)
    with pytest.raises(TaskFailed, match="field 'extra' appears after the first lines"):
        run_task(f"{kind}.load", url=url, table=table, batchSize=2, **{"from": address})
    assert select(url, f"SELECT COUNT(*) FROM {table}") == [(4,)]


def test_a_failed_first_load_creates_no_table(run_task, context, tmp_path, family):
    kind, url = family
    table = table_name()
    bad = [{"id": 1, "store": "a", "amount": 1.0}, {"id": 1, "store": "b", "amount": 2.0}]
    with pytest.raises(TaskFailed, match="nothing was loaded"):
        run_task(f"{kind}.load", url=url, table=table, keys=["id"], **{"from": store(context, tmp_path, bad, "csv")})
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            exists = engine.dialect.has_table(connection, table)
    finally:
        engine.dispose()
    assert exists == (kind == "mysql")  # MySQL commits CREATE TABLE at once: there the table stays, empty
    if exists:
        assert select(url, f"SELECT COUNT(*) FROM {table}") == [(0,)]
