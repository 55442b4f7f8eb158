"""Log lines: search by execution, task and level; download as text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from engine.api.deps import Caller, connections
from engine.api.routes.executions import allowed_execution
from engine.api.schemas import ERRORS, LogLineOut
from engine.core.levels import LogLevel
from engine.identity.policy import Action
from engine.services import executions

router = APIRouter(tags=["logs"])
Level = LogLevel
DOWNLOAD_PAGE = 2000  # lines read (and held) at a time while a download streams


@router.get("/logs/{execution_id}", response_model=list[LogLineOut], responses=ERRORS)
def search_logs(
    caller: Caller,
    execution_id: str,
    task_id: Annotated[str | None, Query(alias="taskId")] = None,
    level: Level | None = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[LogLineOut]:
    """Lines after a position (a line id), at or above a level, oldest first."""
    lines = executions.logs(
        connections().db, caller, execution_id, after=after, limit=limit, task_id=task_id, min_level=level
    )
    return [LogLineOut.model_validate(line, from_attributes=True) for line in lines]


@router.get(
    "/logs/{execution_id}/download",
    response_class=StreamingResponse,
    responses={**ERRORS, 200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def download_logs(caller: Caller, execution_id: str) -> StreamingResponse:
    """Every line as text, streamed a page at a time: a log of any size costs the server one page of memory."""
    allowed_execution(caller, Action.READ, execution_id)
    return StreamingResponse(
        log_text(execution_id),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{execution_id}.log"'},
    )


def log_text(execution_id: str, page: int = DOWNLOAD_PAGE) -> Iterator[str]:
    """The execution's lines as text, one chunk per page read by position (a short read each, no long
    transaction): a line written during the download is included or not, never repeated or skipped."""
    after = 0
    while True:
        lines = executions.read_log_lines(connections().db, execution_id, after=after, limit=page)
        if not lines:
            return
        after = lines[-1].id
        yield "".join(
            f"{line.timestamp.isoformat()} {line.level:<5} {line.task_id or '-'} {line.message}\n" for line in lines
        )
