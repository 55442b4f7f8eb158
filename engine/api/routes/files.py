"""An execution's files: list, download (streamed, with byte ranges), preview; the same read-only for a share link.

A download is streamed a piece at a time from the storage, whole (200) or one byte range (206 with
Content-Range; 416 for a range that is malformed or lies outside the file), as an attachment under a safe name.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse

from engine.api.deps import Caller, connections
from engine.api.errors import ApiError
from engine.api.schemas import ERRORS
from engine.services import files
from engine.services.files import FileDownload, FilePreviewView, FileView, SharedFileView
from engine.storage.preview import MAX_ROWS

router = APIRouter(tags=["files"])
Address = Annotated[str, Query(min_length=1, max_length=files.MAX_ADDRESS, description="a lanner:// address")]
FilePath = Annotated[
    str, Query(min_length=1, max_length=files.MAX_ADDRESS, description="task/attempt/name inside the execution")
]
Rows = Annotated[int, Query(ge=1, le=MAX_ROWS, description="rows (or lines) to preview")]
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
DOWNLOAD_RESPONSES = {
    **ERRORS,
    200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
    206: {"description": "the byte range asked for"},
    416: {"description": "a range outside the file, or not one range of bytes"},
}


class FileOut(FileView):
    pass


class FilePreviewOut(FilePreviewView):
    pass


class SharedFileOut(SharedFileView):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` of a ``Range`` header as (start, end exclusive);
    None without a header; ``ApiError(416)`` for any other header or a range outside the file."""
    if header is None:
        return None
    found = _RANGE.match(header.strip())
    if not found or found.groups() == ("", ""):
        raise _unsatisfiable(size, f"Range '{header[:100]}' is not one range of bytes (bytes=start-end)")
    first, last = found.groups()
    if first == "":  # the last n bytes
        start, end = max(size - int(last), 0), size
    else:
        start, end = int(first), size if last == "" else min(int(last) + 1, size)
        if last != "" and int(last) < start:
            raise _unsatisfiable(size, f"Range '{header[:100]}' ends before it starts")
    if start >= size or end <= start:
        raise _unsatisfiable(size, f"Range '{header[:100]}' lies outside the file's {size} bytes")
    return start, end


def _unsatisfiable(size: int, message: str) -> ApiError:
    return ApiError(416, message, size=size)


def _send(file: FileDownload, range_header: str | None) -> Response:
    try:
        wanted = byte_range(range_header, file.size)
    except ApiError as exc:  # with the size, as RFC 9110 asks, so a client can ask again
        body = {"message": exc.message, **exc.details}
        return JSONResponse(body, status_code=exc.status, headers={"Content-Range": f"bytes */{file.size}"})
    headers = {
        "Accept-Ranges": "bytes",
        # The plain name for every browser, the exact one (UTF-8) for those that read it.
        "Content-Disposition": f"attachment; filename=\"{file.filename}\"; filename*=UTF-8''{quote(file.filename)}",
        "X-Content-Type-Options": "nosniff",
    }
    if wanted is None:
        headers["Content-Length"] = str(file.size)
        return StreamingResponse(file.chunks(), media_type=file.media_type, headers=headers)
    start, end = wanted
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{file.size}"
    headers["Content-Length"] = str(end - start)
    return StreamingResponse(file.chunks(start, end), status_code=206, media_type=file.media_type, headers=headers)


@router.get("/executions/{execution_id}/files", response_model=list[FileOut], responses=ERRORS)
def list_files(caller: Caller, execution_id: str) -> list[FileView]:
    """Every file the execution's tasks stored (each task and attempt), with its address and size."""
    return files.files(connections().db, caller, execution_id)


@router.get("/executions/{execution_id}/files/download", response_class=StreamingResponse, responses=DOWNLOAD_RESPONSES)
def download_file(
    caller: Caller, execution_id: str, address: Address, range: Annotated[str | None, Header()] = None
) -> Response:
    """The file at ``address`` (a file of this execution), whole or one byte range (``Range: bytes=a-b``)."""
    return _send(files.download(connections().db, caller, execution_id, address), range)


@router.get("/executions/{execution_id}/files/preview", response_model=FilePreviewOut, responses=ERRORS)
def preview_file(caller: Caller, execution_id: str, address: Address, rows: Rows = 50) -> FilePreviewView:
    """The first ``rows`` rows of a table (CSV/TSV, JSON, JSON lines, Parquet), the first lines of a text, or a
    thumbnail of an image; ``kind: none`` and the reason for anything else."""
    return files.preview(connections().db, caller, execution_id, address, rows)


@router.get("/share/{token}/files", response_model=list[SharedFileOut], responses=ERRORS)
def list_shared_files(token: str) -> list[SharedFileView]:
    """The files of the execution a share link shows (no sign-in: the link is the key), by ``path`` inside it."""
    return files.shared_files(connections().db, token)


@router.get("/share/{token}/files/download", response_class=StreamingResponse, responses=DOWNLOAD_RESPONSES)
def download_shared_file(token: str, path: FilePath, range: Annotated[str | None, Header()] = None) -> Response:
    return _send(files.shared_download(connections().db, token, path), range)


@router.get("/share/{token}/files/preview", response_model=FilePreviewOut, responses=ERRORS)
def preview_shared_file(token: str, path: FilePath, rows: Rows = 50) -> FilePreviewView:
    return files.shared_preview(connections().db, token, path, rows)
