"""Previews of stored files: the first rows of a table, the first lines of a text, a thumbnail of an image.

Pure functions over a file's bytes, read through ``read(start, end)`` (a backend's ranged read, or a slice of
bytes in memory): a preview never reads more than ``MAX_READ`` bytes, whatever the file's size. CSV/TSV (the
delimiter sniffed, the first row as header), JSON (an array of objects becomes rows, anything else pretty text),
JSON lines, Parquet (schema, then only the row groups and columns the first rows need), text, and PNG/JPEG/GIF/WebP
images (a small PNG). A file that cannot be read as what it claims to be gets kind ``none`` and the reason, never
an exception.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_READ = 4 * 1024 * 1024  # bytes a preview may read, whatever the file's size
TEXT_READ = 256 * 1024  # bytes read for the first lines of a text or the first rows of CSV / JSON lines
MAX_ROWS = 1000  # rows (or lines) a caller may ask for
MAX_CELL = 500  # characters kept of one cell or one text line
MAX_COLUMNS = 200
THUMBNAIL = 256  # pixels, the thumbnail's longest side
MAX_PIXELS = 50_000_000  # an image larger than this (a decompression bomb, or a huge scan) is not decoded

Reader = Callable[[int, int], bytes]  # bytes start..end (exclusive) of the file


@dataclass
class Preview:
    """What a preview shows: ``kind`` is ``table`` (columns and rows), ``text``, ``image`` (a PNG thumbnail) or
    ``none`` (with the ``reason``). ``truncated`` says there is more than shown; ``total_rows`` is known when the
    whole file was read (or a Parquet footer says it)."""

    kind: str
    format: str = ""
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)  # a Parquet schema's column types
    rows: list[list[str]] = field(default_factory=list)
    text: str = ""
    image: bytes = b""  # PNG
    truncated: bool = False
    total_rows: int | None = None
    reason: str = ""


class _Unreadable(ValueError):
    """The file is not what its name or first bytes say (the reason becomes the preview's)."""


def nothing(reason: str, format: str = "") -> Preview:
    return Preview(kind="none", format=format, reason=reason)


_EXTENSIONS = {
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "parquet": "parquet",
    "pq": "parquet",
    "png": "image",
    "jpg": "image",
    "jpeg": "image",
    "gif": "image",
    "webp": "image",
}
_TEXT_EXTENSIONS = {"txt", "log", "md", "yml", "yaml", "xml", "html", "sql", "py", "js", "sh", "ini", "toml", "cfg"}
_MAGIC = ((b"PAR1", "parquet"), (b"\x89PNG", "image"), (b"\xff\xd8\xff", "image"), (b"GIF8", "image"))


def file_format(name: str, head: bytes) -> str:
    """What a file is, by its name's extension, else by its first bytes: one of csv, tsv, json, jsonl, parquet,
    image, text, or binary."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    if extension in _TEXT_EXTENSIONS:
        return "text"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if b"\x00" in head[:8192]:
        return "binary"
    return "text"


def preview(name: str, size: int, read: Reader, rows: int = 50) -> Preview:
    """The preview of the file ``name`` of ``size`` bytes; ``rows`` rows (or lines) at most (1 to ``MAX_ROWS``)."""
    rows = max(1, min(int(rows), MAX_ROWS))
    head = read(0, min(size, 16)) if size else b""
    kind = file_format(name, head)
    if size == 0:
        return Preview(kind="text", format=kind, total_rows=0, reason="the file is empty")
    try:
        return _PREVIEWS.get(kind, _binary)(size, read, rows, kind)
    except _Unreadable as exc:
        return nothing(str(exc), kind)
    except Exception as exc:  # a library's own error on a corrupt file: still a preview that says why, never a 500
        return nothing(f"not a readable {kind} file ({type(exc).__name__}: {str(exc)[:200]})", kind)


def preview_bytes(name: str, data: bytes, rows: int = 50) -> Preview:
    """The preview of a file held in memory."""
    return preview(name, len(data), lambda start, end: data[start:end], rows)


def _binary(size: int, read: Reader, rows: int, kind: str) -> Preview:
    return nothing("a binary file: no preview (download it)", kind)


def _cell(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    elif isinstance(value, bytes):
        text = value[:MAX_CELL].hex()
    else:
        text = str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _head_text(size: int, read: Reader, limit: int) -> tuple[str, bool]:
    """The first ``limit`` bytes as text, cut after their last whole line when the file goes on; and whether it
    does."""
    data = read(0, min(size, limit))
    more = size > len(data)
    if more:
        data = data[: data.rfind(b"\n") + 1] or data  # a line longer than the limit is shown cut
    return data.decode("utf-8-sig", errors="replace"), more


def _text(size: int, read: Reader, rows: int, kind: str) -> Preview:
    text, more = _head_text(size, read, TEXT_READ)
    lines = text.splitlines()
    shown = [line if len(line) <= MAX_CELL else line[: MAX_CELL - 1] + "…" for line in lines[:rows]]
    return Preview(
        kind="text",
        format=kind,
        text="\n".join(shown),
        truncated=more or len(lines) > rows,
        total_rows=None if more else len(lines),
    )


def _delimited(size: int, read: Reader, rows: int, kind: str) -> Preview:
    text, more = _head_text(size, read, TEXT_READ)
    if kind == "tsv":
        delimiter = "\t"
    else:
        try:
            delimiter = csv.Sniffer().sniff(text[:16384], delimiters=",;\t|").delimiter
        except csv.Error:  # one column, or too little text to tell: the comma
            delimiter = ","
    try:
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = next(records, [])
        table, seen = [], 0
        for record in records:
            seen += 1
            if len(table) < rows:
                table.append([_cell(value) for value in record[:MAX_COLUMNS]])
            elif more:
                break
    except csv.Error as exc:
        raise _Unreadable(f"not a readable {kind.upper()} file: {exc}") from None
    width = max([len(header[:MAX_COLUMNS]), *(len(row) for row in table)])
    columns = [_cell(name) for name in header[:MAX_COLUMNS]] + [f"column {i + 1}" for i in range(len(header), width)]
    return Preview(
        kind="table",
        format=kind,
        columns=columns,
        rows=[row + [""] * (width - len(row)) for row in table],
        truncated=more or seen > rows,
        total_rows=None if more else seen,
    )


def _table_of(records: list[Any]) -> tuple[list[str], list[list[str]]]:
    """JSON values as rows: an object's keys are columns (in the order they first appear), any other value is
    the column ``value``."""
    columns: dict[str, None] = {}
    for record in records:
        for key in record if isinstance(record, dict) else ("value",):
            if len(columns) < MAX_COLUMNS:
                columns.setdefault(str(key), None)

    def cell(record: Any, name: str) -> str:
        if isinstance(record, dict):
            return _cell(record.get(name))
        return _cell(record) if name == "value" else ""

    return list(columns), [[cell(record, name) for name in columns] for record in records]


def _json(size: int, read: Reader, rows: int, kind: str) -> Preview:
    # The first elements of an array are usually in the first bytes: read more only when they are not.
    for limit in (TEXT_READ, MAX_READ):
        data = read(0, min(size, limit))
        whole = len(data) == size
        text = data.decode("utf-8-sig", errors="replace")
        start = len(text) - len(text.lstrip())
        if text[start : start + 1] == "[":
            shown = _json_array(text, start + 1, rows, whole)
            if whole or len(shown.rows) >= rows or limit == MAX_READ:
                return shown
        elif whole:
            break
    else:  # too large to parse whole: its first lines as they are
        return _text(size, read, rows, kind)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"not valid JSON: {exc}") from None
    pretty = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    lines = pretty.splitlines()
    return Preview(kind="text", format=kind, text="\n".join(lines[:rows]), truncated=len(lines) > rows)


def _json_array(text: str, position: int, rows: int, whole: bool) -> Preview:
    """The first ``rows`` elements of a JSON array, decoded one at a time: a large array is never parsed whole,
    and a prefix cut in the middle of an element still previews the elements before it."""
    decoder = json.JSONDecoder()
    records: list[Any] = []
    ended = False
    while True:
        position = _skip_blank(text, position)
        if text[position : position + 1] == "]":
            ended = True
            break
        if len(records) >= rows + 1 or position >= len(text):
            break
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            if whole:
                raise _Unreadable(f"not valid JSON: {exc}") from None
            break  # the read stopped inside this element
        records.append(value)
        position = _skip_blank(text, position)
        if text[position : position + 1] == ",":
            position += 1
        elif text[position : position + 1] != "]" and (whole or position < len(text)):
            raise _Unreadable(f"not valid JSON: expected ',' or ']' at character {position}")
    if whole and not ended:
        raise _Unreadable("not valid JSON: the array never ends")
    columns, table = _table_of(records[:rows])
    return Preview(
        kind="table",
        format="json",
        columns=columns,
        rows=table,
        truncated=len(records) > rows or not ended,
        total_rows=len(records) if ended and len(records) <= rows else None,
    )


def _skip_blank(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _json_lines(size: int, read: Reader, rows: int, kind: str) -> Preview:
    text, more = _head_text(size, read, TEXT_READ)
    lines = [line for line in text.splitlines() if line.strip()]
    records = []
    for number, line in enumerate(lines[:rows], start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _Unreadable(f"line {number} is not JSON: {exc}") from None
    columns, table = _table_of(records)
    return Preview(
        kind="table",
        format=kind,
        columns=columns,
        rows=table,
        truncated=more or len(lines) > rows,
        total_rows=None if more else len(lines),
    )


class _RangeFile(io.RawIOBase):
    """A read-only, seekable file over ``read(start, end)`` that refuses to read more than ``budget`` bytes in
    all: Parquet reads its footer, then only the column chunks asked for."""

    def __init__(self, size: int, read: Reader, budget: int) -> None:
        self._size, self._read, self._left, self._position = size, read, budget, 0

    @property
    def left(self) -> int:
        """Bytes it may still read."""
        return self._left

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, count: int = -1) -> bytes:
        end = self._size if count is None or count < 0 else min(self._size, self._position + count)
        if end <= self._position:
            return b""
        if end - self._position > self._left:
            raise _Unreadable(f"the preview would read more than {MAX_READ // (1024 * 1024)} MB of this file")
        data = self._read(self._position, end)
        self._left -= len(data)
        self._position += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _parquet(size: int, read: Reader, rows: int, kind: str) -> Preview:
    import pyarrow.parquet as pq  # loaded by the first Parquet preview only

    source = _RangeFile(size, read, MAX_READ)
    parquet = pq.ParquetFile(source)
    metadata, schema = parquet.metadata, parquet.schema_arrow
    names = schema.names[:MAX_COLUMNS]
    columns, budget, table_rows, groups = [], source.left, 0, []
    # The row groups the first rows lie in, and as many of their columns as fit in the budget.
    for group in range(metadata.num_row_groups):
        groups.append(group)
        table_rows += metadata.row_group(group).num_rows
        if table_rows >= rows:
            break
    for index, name in enumerate(names):
        cost = sum(metadata.row_group(g).column(index).total_compressed_size for g in groups)
        if cost > budget:
            break
        budget -= cost
        columns.append(name)
    if names and not columns:
        raise _Unreadable(f"the first rows' column '{names[0]}' is larger than the preview may read")
    table = parquet.read_row_groups(groups, columns=columns).slice(0, rows) if groups else schema.empty_table()
    values = table.to_pylist()
    return Preview(
        kind="table",
        format=kind,
        columns=list(columns),
        types=[str(schema.field(name).type) for name in columns],
        rows=[[_cell(record.get(name)) for name in columns] for record in values],
        truncated=metadata.num_rows > len(values) or len(columns) < len(schema.names),
        total_rows=metadata.num_rows,
        reason=_left_out(schema.names[len(columns) :]),
    )


def _left_out(names: list[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"columns too large to preview (or past the first {MAX_COLUMNS}): {shown}"


def _image(size: int, read: Reader, rows: int, kind: str) -> Preview:
    from PIL import Image  # loaded by the first image preview only

    if size > MAX_READ:
        raise _Unreadable(f"an image over {MAX_READ // (1024 * 1024)} MB gets no thumbnail (download it)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(read(0, size))) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _Unreadable(f"an image of {width}x{height} pixels gets no thumbnail")
            image.draft("RGB", (THUMBNAIL, THUMBNAIL))  # JPEG: decode at a reduced scale
            thumbnail = image.convert("RGBA")
            thumbnail.thumbnail((THUMBNAIL, THUMBNAIL))
    out = io.BytesIO()
    thumbnail.save(out, format="PNG")
    return Preview(kind="image", format=kind, image=out.getvalue(), text=f"{width}x{height}")


_PREVIEWS = {
    "csv": _delimited,
    "tsv": _delimited,
    "json": _json,
    "jsonl": _json_lines,
    "parquet": _parquet,
    "image": _image,
    "text": _text,
}
