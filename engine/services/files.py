"""An execution's files in internal storage: list them, read one (whole or by range), preview one.

Access is decided once per call, as for the execution itself: the caller must be allowed to read the execution
(``NotFound`` alike for a missing one and one they may not see), and an address must name a file of that very
execution (its namespace, flow and id): an address of another execution or namespace is "not found", and not a
byte of it is read. A share link of an execution reaches its files read-only the same way (``shared_*``).
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from engine.core.errors import InvalidInput, NotFound
from engine.identity import authz, share_links
from engine.identity.policy import Action, Principal
from engine.identity.share_links import ShareKind
from engine.services.views import View
from engine.storage import Address, FileMissing, InvalidAddress, Storage, open_storage
from engine.storage import preview as previews
from engine.storage.address import SCHEME, execution_prefix
from engine.store import executions as execution_store
from engine.store.database import session_scope
from engine.store.tables import Execution

MAX_ADDRESS = 2048


class FileView(View):
    """One stored file of an execution."""

    address: str
    task_id: str
    attempt: int
    name: str
    size: int


class SharedFileView(View):
    """One stored file of a shared execution, named by its path inside the execution (``task/attempt/name``):
    a link's visitor gets no id of anything, the execution's included."""

    path: str
    task_id: str
    attempt: int
    name: str
    size: int


class FilePreviewView(View):
    """A file's preview: ``kind`` table (columns, types, rows), text, image (a PNG thumbnail as a data URL) or
    none (with the ``reason``)."""

    address: str
    name: str
    size: int
    kind: str
    format: str = ""
    columns: list[str] = []
    types: list[str] = []
    rows: list[list[str]] = []
    text: str = ""
    image: str = ""
    truncated: bool = False
    total_rows: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class FileDownload:
    """A file the caller may read: its size, a safe name and media type to send it with, and its bytes."""

    address: Address
    size: int
    storage: Storage

    @property
    def filename(self) -> str:
        return safe_filename(self.address.name)

    @property
    def media_type(self) -> str:
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive), in pieces: a download of any size holds one piece at a time."""
        return self.storage.chunks(self.address, start, end)


def safe_filename(name: str) -> str:
    """The last part of a stored name, with only characters that are safe in a Content-Disposition header."""
    last = name.rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._ -]", "_", last).strip(" .")
    return cleaned[:200] or "file"


def _file_view(address: Address, size: int) -> FileView:
    return FileView(
        address=str(address), task_id=address.task_id, attempt=address.attempt, name=address.name, size=size
    )


def _readable(db: Engine, principal: Principal, execution_id: str) -> Execution:
    with Session(db) as session:
        return authz.require_execution(session, principal, Action.READ, execution_id)


def _shared_execution(db: Engine, token: str) -> Execution:
    """The execution a live share link of an execution points at; ``NotFound`` for any other token."""
    with session_scope(db) as session:
        link = share_links.resolve_share_link(session, token)
        if link is None or link.kind != ShareKind.EXECUTION.value:
            raise NotFound("no such share link")
        execution = execution_store.find_execution(session, link.target_id)
        if execution is None or execution.namespace != link.namespace:
            raise NotFound("no such share link")
        session.expunge(execution)
        return execution


def _own_address(execution: Execution, text: str) -> Address:
    """``text`` as an address of a file of ``execution``; ``InvalidInput`` for a text that is not an address,
    ``NotFound`` for an address of anything else (so nothing tells another execution's files apart)."""
    if len(text) > MAX_ADDRESS:
        raise InvalidInput(f"an address has at most {MAX_ADDRESS} characters")
    try:
        address = Address.parse(text)
    except InvalidAddress as exc:
        raise InvalidInput(str(exc)) from None
    owner = (address.namespace, address.flow_id, address.execution_id)
    if owner != (execution.namespace, execution.flow_id, execution.id):
        raise NotFound(f"no file {text[:200]} in execution {execution.id}")
    return address


def _shared_address(execution: Execution, path: str) -> str:
    """The address of the file at ``path`` (``task/attempt/name``) inside ``execution``."""
    if len(path) > MAX_ADDRESS:
        raise InvalidInput(f"a path has at most {MAX_ADDRESS} characters")
    return f"{SCHEME}{execution_prefix(execution.namespace, execution.flow_id, execution.id)}{path}"


def _listing(execution: Execution) -> list[FileView]:
    stored = open_storage().files(execution.namespace, execution.flow_id, execution.id)
    return [_file_view(item.address, item.size) for item in stored]


def _download(execution: Execution, text: str) -> FileDownload:
    address = _own_address(execution, text)
    storage = open_storage()
    try:
        return FileDownload(address, storage.size(address), storage)
    except FileMissing:
        raise NotFound(f"no file {address} in execution {execution.id}") from None


def _preview(execution: Execution, text: str, rows: int) -> FilePreviewView:
    if not 1 <= rows <= previews.MAX_ROWS:
        raise InvalidInput(f"a preview shows 1 to {previews.MAX_ROWS} rows, not {rows}")
    file = _download(execution, text)

    def read(start: int, end: int) -> bytes:
        return file.storage.read(file.address, start, end)

    shown = previews.preview(file.address.name, file.size, read, rows)
    image = "data:image/png;base64," + base64.b64encode(shown.image).decode() if shown.image else ""
    return FilePreviewView(
        address=str(file.address),
        name=file.address.name,
        size=file.size,
        kind=shown.kind,
        format=shown.format,
        columns=shown.columns,
        types=shown.types,
        rows=shown.rows,
        text=shown.text,
        image=image,
        truncated=shown.truncated,
        total_rows=shown.total_rows,
        reason=shown.reason,
    )


def files(db: Engine, principal: Principal, execution_id: str) -> list[FileView]:
    """Every stored file of the execution (every task and attempt), by task, attempt and name."""
    return _listing(_readable(db, principal, execution_id))


def download(db: Engine, principal: Principal, execution_id: str, address: str) -> FileDownload:
    """The file at ``address`` (a file of this execution), to send whole or by range."""
    return _download(_readable(db, principal, execution_id), address)


def preview(db: Engine, principal: Principal, execution_id: str, address: str, rows: int = 50) -> FilePreviewView:
    """The first ``rows`` rows (or lines) of the file at ``address``, or its thumbnail; bounded reads."""
    return _preview(_readable(db, principal, execution_id), address, rows)


def shared_files(db: Engine, token: str) -> list[SharedFileView]:
    """The files of the execution a share link shows (read-only, as its page), by path inside it."""
    return [
        SharedFileView(
            path=f"{f.task_id}/{f.attempt}/{f.name}", task_id=f.task_id, attempt=f.attempt, name=f.name, size=f.size
        )
        for f in _listing(_shared_execution(db, token))
    ]


def shared_download(db: Engine, token: str, path: str) -> FileDownload:
    """The file at ``path`` (``task/attempt/name``) of the shared execution."""
    execution = _shared_execution(db, token)
    return _download(execution, _shared_address(execution, path))


def shared_preview(db: Engine, token: str, path: str, rows: int = 50) -> FilePreviewView:
    execution = _shared_execution(db, token)
    shown = _preview(execution, _shared_address(execution, path), rows)
    return shown.model_copy(update={"address": ""})  # no id of anything for a link's visitor
