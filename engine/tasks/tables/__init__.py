"""Tables in files: the formats tasks store rows in (CSV, JSON lines, Parquet), written and read a batch at a time."""

from engine.tasks.tables.formats import FileFormat, format_of
from engine.tasks.tables.writer import TableWriter

__all__ = ["FileFormat", "TableWriter", "format_of"]
