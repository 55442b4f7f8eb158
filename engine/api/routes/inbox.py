"""A namespace's inbox in internal storage: list its files, add one (multipart, field ``file``; ``name`` the path
to keep it under, else the file's own name), delete one. A file added starts the flows watching the inbox with a
``storage.trigger``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from engine.api.deps import Caller, actor, connections
from engine.api.errors import ApiError
from engine.api.guards import refuse_nul
from engine.api.schemas import ERRORS
from engine.services import inbox
from engine.services.inbox import InboxFileView
from engine.workspace import uploads

router = APIRouter(tags=["inbox"])
Folder = Annotated[str, Query(max_length=1024, description="a folder inside the inbox (empty: all of it)")]


@router.get("/namespaces/{namespace}/inbox", response_model=list[InboxFileView], responses=ERRORS)
def list_inbox(caller: Caller, namespace: str, folder: Folder = "") -> list[InboxFileView]:
    """The files waiting in the namespace's inbox (those taken by a storage.trigger are under .lanner-done/)."""
    return inbox.files(caller, namespace, folder)


@router.post(
    "/namespaces/{namespace}/inbox",
    response_model=InboxFileView,
    status_code=201,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}, "name": {"type": "string"}},
                        "required": ["file"],
                    }
                }
            }
        }
    },
)
async def add_to_inbox(caller: Caller, namespace: str, request: Request) -> InboxFileView:
    """Add a file (409 when the inbox holds one of that name): multipart ``file``, optional ``name``
    (``orders/day.csv``: a path inside the inbox; default the file's own name)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "send the file as multipart/form-data, in the field 'file'")
    form = await request.form(max_files=1, max_fields=5)
    sent = form.get("file")
    if sent is None or not hasattr(sent, "read"):
        raise ApiError(422, "no file: send it in the multipart field 'file'")
    name = refuse_nul(str(form.get("name") or ""), "the field 'name'") or uploads.stored_name(sent.filename, "file")
    data = await sent.read()
    if len(data) > uploads.MAX_UPLOAD_BYTES:
        raise ApiError(413, f"the file is larger than {uploads.MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / "upload"
        local.write_bytes(data)
        # Writing to the storage (maybe S3) blocks: never on the event loop.
        return await run_in_threadpool(inbox.add, connections().db, caller, namespace, name, local, actor=actor(caller))


@router.delete("/namespaces/{namespace}/inbox/{name:path}", status_code=204, responses=ERRORS)
def delete_from_inbox(caller: Caller, namespace: str, name: str) -> Response:
    inbox.remove(connections().db, caller, namespace, name, actor=actor(caller))
    return Response(status_code=204)
