"""The file formats a table is stored in, and how a file's name tells its format."""

from __future__ import annotations

from enum import StrEnum


class FileFormat(StrEnum):
    CSV = "CSV"
    JSONL = "JSONL"
    PARQUET = "PARQUET"

    @property
    def extension(self) -> str:
        return {FileFormat.CSV: "csv", FileFormat.JSONL: "jsonl", FileFormat.PARQUET: "parquet"}[self]

    @classmethod
    def _missing_(cls, value: object) -> FileFormat | None:
        # Flows may write the format in lower case (csv, parquet) or by a common other name.
        if isinstance(value, str):
            text = value.strip().upper().replace(" ", "").replace("_", "")
            text = {"JSONLINES": "JSONL", "NDJSON": "JSONL", "PQ": "PARQUET"}.get(text, text)
            if text != value:
                return cls.__members__.get(text)
        return None


_EXTENSIONS = {
    ".csv": FileFormat.CSV,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
    ".json": FileFormat.JSONL,
    ".parquet": FileFormat.PARQUET,
    ".pq": FileFormat.PARQUET,
}


def format_of(name: str) -> FileFormat | None:
    """The format a file's name says (by its extension), or None when it says none."""
    lowered = name.lower().split("?", 1)[0]
    return next((fmt for ext, fmt in _EXTENSIONS.items() if lowered.endswith(ext)), None)
