"""Write a table to a file one Arrow record batch at a time, so no task holds a whole result in memory.

Database rows arrive as Python tuples in batches (``rows_to_batch``); their types are only known from the values,
and a column may be null for the first thousands of rows. CSV and JSON lines take any batch (a column's type may
change between batches); Parquet fixes one schema for the file, so it waits until every column has shown a value
(or ``PARQUET_SETTLE_ROWS`` rows went by) before choosing it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.tasks.context import TaskFailed
from engine.tasks.tables.formats import FileFormat

#: Parquet: rows held back at most while a column is still all null (its type is then unknown).
PARQUET_SETTLE_ROWS = 100_000


def _plain(value: Any) -> Any:
    """A value Arrow can hold: JSON documents as their text, UUIDs as text, buffers as bytes."""
    if isinstance(value, dict | list | tuple):
        from engine.tasks.sql.connection import json_safe

        return json.dumps(json_safe(value), ensure_ascii=False)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


def _column(values: list[Any], type_: Any = None) -> Any:
    import pyarrow as pa

    first = next((v for v in values if v is not None), None)
    if isinstance(first, dict | list | tuple | uuid.UUID | memoryview | bytearray):
        values = [None if v is None else _plain(v) for v in values]
    if type_ is not None and pa.types.is_decimal(type_):
        # Decimals at the first batch's scale (inferring would give each batch the scale of its own values). Only
        # them: Arrow would also take 3.5 as a date, silently; other types are inferred and the writer decides.
        try:
            return pa.array(values, type=type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        # Mixed kinds in one column (SQLite lets a column hold 1 and 'one'), huge integers: their text.
        return pa.array([None if v is None else str(_plain(v)) for v in values], type=pa.string())
    if pa.types.is_decimal(array.type):
        # Room for larger numbers in later batches, at the scale seen so far.
        array = array.cast(pa.decimal128(38, array.type.scale))
    return array


def rows_to_batch(names: Sequence[str], rows: Sequence[Sequence[Any]], schema: Any = None) -> Any:
    """Rows (tuples in ``names`` order) as an Arrow record batch, typed as ``schema`` where the values allow."""
    import pyarrow as pa

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = [
        _column(list(values), schema.field(i).type if schema is not None else None) for i, values in enumerate(columns)
    ]
    return pa.RecordBatch.from_arrays(arrays, names=list(names))


class TableWriter:
    """``write(batch)`` as many times as there are batches, then ``close()``, which returns the rows written."""

    def __init__(self, path: Path, format: FileFormat) -> None:
        self.path = Path(path)
        self.format = FileFormat(format)
        self.rows = 0
        self.schema: Any = None  # the last batch's (CSV, JSONL) or the file's (Parquet) schema
        self._sink: Any = None
        self._writer: Any = None
        self._pending: list[Any] = []  # Parquet batches held back until the columns' types are known
        self._closed = False

    def write(self, batch: Any) -> None:
        if batch.num_rows == 0 and self.schema is not None:
            return
        if self.format == FileFormat.PARQUET:
            self._write_parquet(batch)
        elif self.format == FileFormat.CSV:
            self._write_csv(batch)
        else:
            self._write_jsonl(batch)
        self.rows += batch.num_rows

    def _write_jsonl(self, batch: Any) -> None:
        from engine.tasks.sql.connection import json_safe

        if self._sink is None:
            self._sink = self.path.open("w", encoding="utf-8")
        self.schema = batch.schema
        write = self._sink.write
        for row in batch.to_pylist():
            write(json.dumps(json_safe(row), ensure_ascii=False) + "\n")

    def _write_csv(self, batch: Any) -> None:
        import pyarrow as pa
        from pyarrow import csv

        if self._sink is None:
            self._sink = pa.OSFile(str(self.path), "wb")
        if batch.schema != self.schema:
            # A column's type changed (it was all null, or SQLite mixed kinds): the same file goes on, the header
            # written once. The text of each value does not depend on the column's type.
            if self._writer is not None:
                self._writer.close()
            options = csv.WriteOptions(include_header=self.schema is None)
            self._writer = csv.CSVWriter(self._sink, batch.schema, write_options=options)
            self.schema = batch.schema
        self._writer.write_batch(batch)

    def _write_parquet(self, batch: Any) -> None:
        import pyarrow as pa

        if self._writer is None:
            self._pending.append(batch)
            held = sum(b.num_rows for b in self._pending)
            if held < PARQUET_SETTLE_ROWS and any(pa.types.is_null(f.type) for f in self._unified()):
                return
            self._open_parquet()
            return
        self._writer.write_table(self._fit(batch))

    def _unified(self) -> Any:
        import pyarrow as pa

        return pa.unify_schemas([b.schema for b in self._pending], promote_options="permissive")

    def _open_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        unified = self._unified()
        # A column null all along holds text: the most any later value can become.
        self.schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in unified])
        self._writer = pq.ParquetWriter(str(self.path), self.schema)
        pending, self._pending = self._pending, []
        for batch in pending:
            self._writer.write_table(self._fit(batch))

    def _fit(self, batch: Any) -> Any:
        import pyarrow as pa

        table = pa.Table.from_batches([batch])
        if batch.schema == self.schema:
            return table
        try:
            return table.cast(self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            wanted = {f.name: f.type for f in self.schema}
            column = next((f.name for f in batch.schema if wanted.get(f.name) != f.type), "?")
            raise TaskFailed(
                f"column '{column}' changed type after {self.rows} rows ({wanted.get(column)} before, "
                f"{batch.schema.field(column).type if column != '?' else '?'} now), which Parquet cannot hold: "
                f"CAST it in the SQL ({exc})"
            ) from None

    def close(self, schema: Any = None) -> int:
        """Finish the file (an empty one with ``schema``'s columns when no batch came) and return the rows."""
        if self._closed:
            return self.rows
        if self.schema is None and not self._pending:
            import pyarrow as pa

            self.write(pa.RecordBatch.from_pylist([], schema=schema if schema is not None else pa.schema([])))
        if self._pending:
            self._open_parquet()
        self._closed = True
        if self._writer is not None:
            self._writer.close()
        if self._sink is not None:
            self._sink.close()
        return self.rows

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._closed:
            try:
                self.close()
            except Exception:  # the error that stopped the writing is the one to report
                if exc[0] is None:
                    raise
