"""The table writer on batches whose column types change: CSV goes on, Parquet waits for a type or says which column."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from engine.tasks.context import TaskFailed
from engine.tasks.tables import FileFormat, TableWriter
from engine.tasks.tables.writer import rows_to_batch

NAMES = ["id", "value"]


def write(path, fmt, *batches):
    with TableWriter(path, fmt) as writer:
        for rows in batches:
            writer.write(rows_to_batch(NAMES, rows, writer.schema))
        return writer.close(pa.schema([(n, pa.string()) for n in NAMES]))


def test_csv_takes_a_column_that_changes_kind_and_writes_one_header(tmp_path):
    path = tmp_path / "t.csv"
    assert write(path, FileFormat.CSV, [(1, None), (2, None)], [(3, 7)], [(4, "seven")], [(5, 2**70)]) == 5
    assert path.read_text().splitlines() == ['"id","value"', "1,", "2,", "3,7", '4,"seven"', f'5,"{2**70}"']


def test_parquet_waits_for_a_late_column_and_keeps_rich_values(tmp_path):
    path = tmp_path / "t.parquet"
    key = uuid.uuid4()
    later = [(3, {"n": [1, 2]}), (4, None)]
    assert write(path, FileFormat.PARQUET, [(1, None), (2, None)], later) == 4
    rows = pq.read_table(path).to_pylist()
    assert [json.loads(r["value"]) if r["value"] else None for r in rows] == [None, None, {"n": [1, 2]}, None]
    rich = [(1, decimal.Decimal("1.50")), (2, decimal.Decimal("123456789012.25"))]
    assert write(tmp_path / "d.parquet", FileFormat.PARQUET, rich) == 2
    assert pq.read_table(tmp_path / "d.parquet").column("value").to_pylist() == [
        decimal.Decimal("1.50"),
        decimal.Decimal("123456789012.25"),
    ]
    write(tmp_path / "u.parquet", FileFormat.PARQUET, [(1, key), (2, dt.date(2026, 11, 28))])
    assert pq.read_table(tmp_path / "u.parquet").column("value").to_pylist() == [str(key), "2026-11-28"]


def test_parquet_names_the_column_whose_type_it_cannot_keep(tmp_path, monkeypatch):
    monkeypatch.setattr("engine.tasks.tables.writer.PARQUET_SETTLE_ROWS", 1)
    with pytest.raises(TaskFailed, match=r"column 'value' changed type after 1 rows .*CAST it in the SQL"):
        write(tmp_path / "t.parquet", FileFormat.PARQUET, [(1, dt.date(2026, 1, 1))], [(2, 3.5)])


def test_an_empty_result_keeps_its_columns(tmp_path):
    for fmt in FileFormat:
        path = tmp_path / f"empty.{fmt.extension}"
        assert write(path, fmt) == 0
    assert (tmp_path / "empty.csv").read_text() == '"id","value"\n'
    assert pq.read_table(tmp_path / "empty.parquet").column_names == NAMES
    assert (tmp_path / "empty.jsonl").read_text() == ""
    assert pa_csv.read_csv(tmp_path / "empty.csv").num_rows == 0
