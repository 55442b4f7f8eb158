"""An execution's stored files for the studio: the list, a preview, and the link that downloads one.

``engine.services.files`` decides access (an execution the person may not read is "not found", a
``LookupError``; an address of anything else than this execution is refused the same way). A download never
passes through a page's state: the page links to the API's streamed route, which reads the same session cookie.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from engine.identity.policy import Principal
from engine.services import files as service
from engine.services.files import FilePreviewView, FileView
from studio.services import database

PREVIEW_ROWS = 50


def download_href(execution_id: str, address: str) -> str:
    """The API route that streams the file (same origin as the studio: the session cookie goes with it)."""
    return f"/api/v1/executions/{execution_id}/files/download?" + urlencode({"address": address})


def _row(execution_id: str, file: FileView) -> dict[str, Any]:
    return {
        "address": file.address,
        "task_id": file.task_id,
        "attempt": file.attempt,
        "name": file.name,
        "size": file.size,
        "href": download_href(execution_id, file.address),
    }


def execution_files(principal: Principal, execution_id: str) -> list[dict[str, Any]]:
    """Every file the execution's tasks stored, by task, attempt and name (typed: the page words the size)."""
    return [_row(execution_id, f) for f in service.files(database(), principal, execution_id)]


def task_files(principal: Principal, execution_id: str, task_id: str) -> list[dict[str, Any]]:
    """The files of one task of the execution, its latest attempt's first."""
    rows = [row for row in execution_files(principal, execution_id) if row["task_id"] == task_id]
    return sorted(rows, key=lambda row: (-row["attempt"], row["name"]))


def file_preview(principal: Principal, execution_id: str, address: str, rows: int = PREVIEW_ROWS) -> FilePreviewView:
    """The file's first rows (or lines), or its thumbnail; ``kind == "none"`` with the reason otherwise."""
    return service.preview(database(), principal, execution_id, address, rows)


def shared_files(token: str) -> list[dict[str, Any]]:
    """The files of the execution a share link shows, each keyed by its path inside it (a visitor gets no id)."""
    return [
        {
            "address": f.path,
            "task_id": f.task_id,
            "attempt": f.attempt,
            "name": f.name,
            "size": f.size,
            "href": f"/api/v1/share/{token}/files/download?" + urlencode({"path": f.path}),
        }
        for f in service.shared_files(database(), token)
    ]


def shared_file_preview(token: str, path: str, rows: int = PREVIEW_ROWS) -> FilePreviewView:
    return service.shared_preview(database(), token, path, rows)
