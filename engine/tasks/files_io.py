"""``file.write`` and ``file.read``: a text into a stored file, a small stored file back into a text output.

Reading is bounded by LANNER_MAX_OUTPUT_BYTES (the size of any output value), checked on the stored size before a
byte is read: a big file is for data.transform or a script's inputFiles, never held whole in an output.
"""

from __future__ import annotations

import codecs
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field

from engine.config import load_settings
from engine.storage.address import check_name
from engine.storage.base import FileMissing, StorageUnavailable
from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed
from engine.tasks.files import readable


def _known_encoding(name: str) -> str:
    if "{{" not in name:
        try:
            codecs.lookup(name)
        except LookupError:
            raise ValueError(f"'{name}' is not a text encoding (utf-8, latin-1, utf-16...)") from None
    return name


Encoding = Annotated[str, AfterValidator(_known_encoding)]


def _literal_name(name: str) -> str:
    if "{{" not in name:
        check_name(name)
    return name


StoredName = Annotated[str, AfterValidator(_literal_name)]
"""The name a task gives a file it stores (may hold folders: reports/day.csv), checked to stay inside its folder
unless it is an expression (checked once rendered, when the file is stored)."""


@registry.register
class FileWrite(Task):
    type: Literal["file.write"]
    content: Annotated[str, Field(json_schema_extra={"x-lanner-code": "text"})]
    """The text to keep in the file (an expression may build it, e.g. from outputs of earlier tasks)."""
    file_name: StoredName = "file.txt"
    """Name of the stored file, e.g. report.csv (may hold folders: reports/day.csv)."""
    encoding: Encoding = "utf-8"
    """How the text is written as bytes: utf-8, latin-1, utf-16..."""

    title: ClassVar[str] = "Write a file"
    summary: ClassVar[str] = "Keep a text as a stored file; outputs its lanner:// address."
    group: ClassVar[Group] = Group.DATA
    icon: ClassVar[str] = "file"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"content": "day,total\n{{ trigger.date }},{{ outputs.sum.row.total }}\n", "fileName": "summary.csv"},
    )
    output_fields: ClassVar[dict[str, str]] = {
        "uri": "The lanner:// address of the file written.",
        "size": "Its size in bytes.",
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        try:
            data = self.content.encode(self.encoding)
        except (UnicodeEncodeError, LookupError) as exc:
            raise TaskFailed(f"the content cannot be written as {self.encoding}: {exc}") from None
        handle, name = tempfile.mkstemp(prefix=".lanner-write-", dir=ctx.workdir)
        local = Path(name)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            uri = ctx.store_file(local, self.file_name)
        finally:
            local.unlink(missing_ok=True)
        ctx.log("INFO", f"{len(data):,} bytes -> {uri}")
        return {"uri": uri, "size": len(data)}


@registry.register
class FileRead(Task):
    type: Literal["file.read"]
    from_: Annotated[str, Field(alias="from", min_length=1)]
    """The stored file's lanner:// address, e.g. {{ outputs.report.uri }}."""
    encoding: Encoding = "utf-8"
    """How the file's bytes are read as text: utf-8, latin-1, utf-16..."""

    title: ClassVar[str] = "Read a file"
    summary: ClassVar[str] = "Read a small stored file as text (outputs content)."
    group: ClassVar[Group] = Group.DATA
    icon: ClassVar[str] = "file"
    examples: ClassVar[tuple[dict[str, Any], ...]] = ({"from": "{{ outputs.report.uri }}"},)
    output_fields: ClassVar[dict[str, str]] = {"content": "The file's content, as text.", "size": "Its size in bytes."}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        address = readable(ctx, self.from_)
        limit = load_settings().max_output_bytes
        try:
            size = ctx.storage.size(address)  # type: ignore[union-attr]
            if size > limit:
                raise TaskFailed(
                    f"{self.from_} is {size:,} bytes, more than {limit:,} (LANNER_MAX_OUTPUT_BYTES, the limit of an "
                    "output value): transform it with data.transform, or give it to a script as inputFiles"
                )
            data = ctx.storage.read(address)  # type: ignore[union-attr]
        except FileMissing:
            raise TaskFailed(f"{self.from_} does not exist (never written, or deleted with its execution)") from None
        except StorageUnavailable as exc:
            raise TaskFailed(f"{self.from_}: {exc}") from None
        try:
            content = data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise TaskFailed(f"{self.from_} is not {self.encoding} text ({exc}): give its encoding") from None
        return {"content": content, "size": len(data)}
