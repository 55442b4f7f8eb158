"""Write a table to a file one Arrow record batch at a time, so no task holds a whole result in memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.tasks.tables.formats import FileFormat


class TableWriter:
    """``write(batch)`` as many times as there are batches, then ``close()``, which returns the rows written.

    The first batch fixes the columns; later batches are cast to its schema (a column that held only nulls in the
    first batch widens to the type later batches bring, for CSV and JSON lines)."""

    def __init__(self, path: Path, format: FileFormat) -> None:
        self.path = Path(path)
        self.format = FileFormat(format)
        self.rows = 0
        self._writer: Any = None
        self._file: Any = None
        self._schema: Any = None
        self._closed = False

    def write(self, batch: Any) -> None:
        import pyarrow as pa

        if self._schema is None:
            self._open(batch.schema)
        elif batch.schema != self._schema and self.format == FileFormat.PARQUET:
            batch = pa.RecordBatch.from_pylist(batch.to_pylist(), schema=self._schema)
        if self.format == FileFormat.JSONL:
            from engine.tasks.sql.connection import json_safe

            for row in batch.to_pylist():
                self._file.write(json.dumps(json_safe(row), ensure_ascii=False) + "\n")
        else:
            self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def _open(self, schema: Any) -> None:
        self._schema = schema
        if self.format == FileFormat.JSONL:
            self._file = self.path.open("w", encoding="utf-8")
        elif self.format == FileFormat.CSV:
            from pyarrow import csv

            self._writer = csv.CSVWriter(str(self.path), schema)
        else:
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(str(self.path), schema)

    def close(self, schema: Any = None) -> int:
        """Finish the file (an empty one with ``schema``'s columns when no batch came) and return the rows."""
        if self._closed:
            return self.rows
        self._closed = True
        if self._schema is None:
            import pyarrow as pa

            self._open(schema if schema is not None else pa.schema([]))
        if self._writer is not None:
            self._writer.close()
        if self._file is not None:
            self._file.close()
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
