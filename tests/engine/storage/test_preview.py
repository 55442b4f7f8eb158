"""Previews of stored files: tables of CSV/TSV, JSON, JSON lines and Parquet, text lines, image thumbnails; a
large file is previewed from its first bytes only, a corrupt one gets "no preview" and the reason."""

from __future__ import annotations

import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from engine.storage.preview import MAX_READ, TEXT_READ, preview, preview_bytes


def counting_reader(data: bytes) -> tuple[list[int], object]:
    """A reader over ``data`` that records how many bytes each call returned."""
    reads: list[int] = []

    def read(start: int, end: int) -> bytes:
        piece = data[start:end]
        reads.append(len(piece))
        return piece

    return reads, read


def parquet_bytes(table: pa.Table, row_group_size: int) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=row_group_size, compression="none")
    return out.getvalue()


def test_a_csv_shows_its_header_and_first_rows():
    data = b"day,amount,shop\n" + b"".join(f"2026-01-{d:02d},{d * 10},north\n".encode() for d in range(1, 31))
    shown = preview_bytes("out/sales.csv", data, rows=5)
    assert (shown.kind, shown.format) == ("table", "csv")
    assert shown.columns == ["day", "amount", "shop"]
    assert shown.rows[0] == ["2026-01-01", "10", "north"] and len(shown.rows) == 5
    assert shown.truncated and shown.total_rows == 30


def test_the_delimiter_is_sniffed_and_a_tsv_splits_on_tabs():
    semicolons = preview_bytes("a.csv", b"name;city\nada;paris\nbob;oslo\n")
    assert semicolons.columns == ["name", "city"] and semicolons.rows == [["ada", "paris"], ["bob", "oslo"]]
    assert not semicolons.truncated and semicolons.total_rows == 2
    tabs = preview_bytes("a.tsv", b"name\tnote\nada\thas, commas\n")
    assert tabs.rows == [["ada", "has, commas"]]


def test_a_large_csv_is_previewed_from_its_first_bytes_only():
    data = b"n,square\n" + b"".join(f"{n},{n * n}\n".encode() for n in range(2_000_000))
    assert len(data) > 5 * MAX_READ
    reads, read = counting_reader(data)
    shown = preview("big.csv", len(data), read, rows=3)
    assert shown.rows == [["0", "0"], ["1", "1"], ["2", "4"]]
    assert shown.truncated and shown.total_rows is None
    assert sum(reads) <= MAX_READ


def test_a_json_array_of_objects_is_a_table_and_other_json_is_pretty_text():
    records = [{"id": i, "name": f"n{i}", "tags": ["a"]} for i in range(10)] + [{"id": 10, "extra": True}]
    table = preview_bytes("r.json", json.dumps(records).encode(), rows=20)
    assert table.kind == "table" and table.columns == ["id", "name", "tags", "extra"]
    assert table.rows[0] == ["0", "n0", '["a"]', ""] and table.rows[10] == ["10", "", "", "True"]
    assert table.total_rows == 11 and not table.truncated
    text = preview_bytes("config.json", b'{"a": {"b": [1, 2]}}')
    assert text.kind == "text" and text.text.startswith('{\n  "a": {')


def test_a_json_array_too_large_to_read_still_shows_its_first_elements():
    data = json.dumps([{"n": i, "pad": "x" * 100} for i in range(100_000)]).encode()
    assert len(data) > 2 * MAX_READ
    reads, read = counting_reader(data)
    shown = preview("big.json", len(data), read, rows=4)
    assert [row[0] for row in shown.rows] == ["0", "1", "2", "3"] and shown.truncated
    assert sum(reads) <= TEXT_READ + 16  # the first bytes only
    reads.clear()
    assert len(preview("big.json", len(data), read, rows=1000).rows) == 1000
    assert sum(reads) <= TEXT_READ + MAX_READ + 16


def test_json_lines_are_rows():
    shown = preview_bytes("events.jsonl", b'{"a": 1}\n{"a": 2, "b": "x"}\n\n')
    assert shown.columns == ["a", "b"] and shown.rows == [["1", ""], ["2", "x"]] and shown.total_rows == 2


def test_a_parquet_file_shows_its_schema_and_reads_only_the_first_row_groups():
    count = 200_000
    table = pa.table({"id": pa.array(range(count), pa.int64()), "label": [f"row {i:06d}" for i in range(count)]})
    data = parquet_bytes(table, row_group_size=10_000)
    assert len(data) > MAX_READ / 2
    reads, read = counting_reader(data)
    shown = preview("t.parquet", len(data), read, rows=3)
    assert (shown.kind, shown.format) == ("table", "parquet")
    assert shown.columns == ["id", "label"] and shown.types == ["int64", "string"]
    assert shown.rows == [["0", "row 000000"], ["1", "row 000001"], ["2", "row 000002"]]
    assert shown.total_rows == count and shown.truncated
    assert sum(reads) < len(data) / 10  # the footer and one row group, not the file


def test_an_image_becomes_a_small_png_thumbnail():
    for image_format in ("PNG", "JPEG", "GIF", "WEBP"):
        out = io.BytesIO()
        Image.new("RGB", (1200, 600), (200, 30, 30)).save(out, format=image_format)
        shown = preview_bytes(f"chart.{image_format.lower()}", out.getvalue())
        assert shown.kind == "image" and shown.text == "1200x600", image_format
        with Image.open(io.BytesIO(shown.image)) as thumbnail:
            assert thumbnail.format == "PNG" and max(thumbnail.size) <= 256


def test_text_shows_its_first_lines_and_binary_none():
    shown = preview_bytes("run.log", b"".join(f"line {i}\n".encode() for i in range(100)), rows=3)
    assert shown.kind == "text" and shown.text == "line 0\nline 1\nline 2" and shown.truncated
    assert shown.total_rows == 100
    assert preview_bytes("blob.bin", b"\x00\x01\x02" * 10).kind == "none"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bad.parquet", b"PAR1 this is not parquet PAR1", "parquet"),
        ("bad.png", b"\x89PNG\r\n\x1a\n broken", "image"),
        ("bad.json", b'[{"a": 1}, {"a": ', "JSON"),
        ("bad.json", b'{"a": 1', "JSON"),
        ("bad.jsonl", b'{"a": 1}\nnot json\n', "line 2"),
        ("bad.csv", b'a,b\n"x' + b"y" * 200_000 + b"\n", "CSV"),
    ],
)
def test_a_corrupt_file_gets_no_preview_and_a_reason(name, data, reason):
    shown = preview_bytes(name, data)
    assert shown.kind == "none" and reason in shown.reason, shown


def test_a_decompression_bomb_gets_no_thumbnail():
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")  # a few KB, 400 megapixels
    shown = preview_bytes("bomb.png", out.getvalue())
    assert shown.kind == "none" and "pixels" in shown.reason


def test_rows_are_bounded():
    data = b"n\n" + b"".join(f"{n}\n".encode() for n in range(5000))
    assert len(preview_bytes("n.csv", data, rows=10**9).rows) == 1000
    assert len(preview_bytes("n.csv", data, rows=-5).rows) == 1


def test_a_parquet_column_too_large_to_preview_is_left_out_and_named():
    table = pa.table({"id": [0, 1, 2], "blob": [os.urandom(3_000_000) for _ in range(3)]})
    shown = preview_bytes("blobs.parquet", parquet_bytes(table, row_group_size=10))
    assert shown.columns == ["id"] and shown.rows == [["0"], ["1"], ["2"]] and shown.truncated
    assert "blob" in shown.reason
