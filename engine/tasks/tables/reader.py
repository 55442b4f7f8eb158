"""Read a table file one Arrow record batch at a time, so a task loading a file of any size holds one batch only."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.tasks.tables.formats import FileFormat

#: Bytes pyarrow's CSV and JSON readers parse at once; rows are then cut to the caller's batch size.
BLOCK_BYTES = 4 << 20


def read_batches(path: Path, format: FileFormat, batch_size: int = 10_000) -> Iterator[Any]:
    """The file's rows as record batches of at most ``batch_size`` rows, all with the first batch's columns.

    At least one batch comes, empty when the file has no rows, so the columns (and their types) are always known.
    Types are pyarrow's: Parquet's own, inferred for CSV and JSON lines (numbers, booleans, dates, timestamps)
    from the first block. ``pyarrow.ArrowInvalid`` says what in the file could not be read."""
    fmt = FileFormat(format)
    if fmt == FileFormat.PARQUET:
        batches = _parquet(Path(path), batch_size)
    elif fmt == FileFormat.CSV:
        batches = _csv(Path(path))
    else:
        batches = _jsonl(Path(path), batch_size)
    yield from _rebatch(batches, batch_size)


def _rebatch(batches: Iterator[Any], batch_size: int) -> Iterator[Any]:
    first, rows = None, 0
    for batch in batches:
        first = batch if first is None else first
        rows += batch.num_rows
        for start in range(0, batch.num_rows, batch_size):
            yield batch.slice(start, batch_size)
    if first is not None and rows == 0:
        yield first  # the file's columns, without rows


def _parquet(path: Path, batch_size: int) -> Iterator[Any]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        yield _empty(parquet.schema_arrow)  # the columns, even when the file has no rows
        yield from parquet.iter_batches(batch_size=batch_size)


def _empty(schema: Any) -> Any:
    import pyarrow as pa

    return pa.RecordBatch.from_pylist([], schema=schema)


def _csv(path: Path) -> Iterator[Any]:
    from pyarrow import csv

    reader = csv.open_csv(path, read_options=csv.ReadOptions(block_size=BLOCK_BYTES))
    yield _empty(reader.schema)
    with reader:
        yield from reader


def _jsonl(path: Path, batch_size: int) -> Iterator[Any]:
    """JSON lines in chunks of ``batch_size`` lines (at most ``BLOCK_BYTES`` bytes), each parsed by pyarrow: the
    first chunk fixes the columns and types, later chunks are read with them (a column null in the whole first
    chunk takes its type from the values that come later)."""
    import pyarrow as pa
    from pyarrow import json

    schema = None
    with path.open("rb") as file:
        while True:
            lines, size = [], 0
            for line in file:
                if line.strip():
                    lines.append(line)
                    size += len(line)
                if len(lines) >= batch_size or size >= BLOCK_BYTES:
                    break
            if not lines:
                break
            if schema is None:
                table = json.read_json(io.BytesIO(b"".join(lines)))
                schema = table.schema
            else:
                known = pa.schema([field for field in schema if not pa.types.is_null(field.type)])
                options = json.ParseOptions(explicit_schema=known, unexpected_field_behavior="infer")
                table = json.read_json(io.BytesIO(b"".join(lines)), parse_options=options)
                table = _with_columns(table, schema)
            yield from table.combine_chunks().to_batches()
    if schema is None:
        yield _empty(pa.schema([]))


def _with_columns(table: Any, schema: Any) -> Any:
    """``table`` with ``schema``'s columns in its order (a missing one null); a column the first lines did not have
    is refused: the columns loaded are fixed by then."""
    import pyarrow as pa

    extra = [name for name in table.column_names if name not in schema.names]
    if extra:
        raise pa.ArrowInvalid(f"field '{extra[0]}' appears after the first lines, which did not have it")
    columns = [
        table.column(field.name) if field.name in table.column_names else pa.nulls(table.num_rows, field.type)
        for field in schema
    ]
    return pa.table(columns, names=schema.names)
