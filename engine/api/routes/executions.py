"""Executions: start (JSON or multipart with files), search, read, kill, restart, replay, resume, follow (SSE)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from engine import authz, commands, uploads
from engine.access import Action, Principal
from engine.api.deps import Caller, actor, connections, current_principal
from engine.api.errors import ApiError, label_filters
from engine.api.guards import refuse_nul
from engine.api.schemas import ERRORS, ExecutionOut, ExecutionPage, ExecutionRequest, ResumeRequest, TaskRunOut
from engine.config import load_settings
from engine.states import TERMINAL, State
from engine.store import executions as store
from engine.store import flows as flow_store
from engine.store import search
from engine.store.logs import read_logs
from engine.store.search import ExecutionFilter
from engine.store.tables import Execution

router = APIRouter(tags=["executions"])
RECHECK_SECONDS = 5.0  # a live stream re-reads who is watching this often: revoked access ends it


def execution_out(row: Execution, runs: list | None = None) -> ExecutionOut:
    task_runs = None
    if runs is not None:
        task_runs = [
            TaskRunOut(
                id=r.id,
                task_id=r.task_id,
                parent_task_run_id=r.parent_task_run_id,
                iteration=r.iteration,
                value=r.value,
                state=r.state,
                attempts=r.attempt_count,
                outputs=r.outputs or {},
                error=r.error,
                started_at=r.started_at,
                ended_at=r.ended_at,
                duration_ms=r.duration_ms,
            )
            for r in runs
        ]
    return ExecutionOut(
        id=row.id,
        namespace=row.namespace,
        flow_id=row.flow_id,
        flow_revision=row.flow_revision,
        state=row.state,
        inputs=row.inputs,
        outputs=row.outputs,
        labels=row.labels,
        trigger=row.trigger,
        error=row.error,
        parent_execution_id=row.parent_execution_id,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        duration_ms=row.duration_ms,
        task_runs=task_runs,
    )


def allowed_execution(caller: Principal, action: Action, execution_id: str) -> Execution:
    with Session(connections().db) as session:
        return authz.require_execution(session, caller, action, execution_id)


def _read(execution_id: str) -> ExecutionOut:
    with Session(connections().db) as session:
        row = store.get_execution(session, execution_id)
        return execution_out(row, store.task_runs(session, execution_id))


def _ended(execution_id: str) -> bool:
    with Session(connections().db) as session:
        return store.get_execution(session, execution_id).state in TERMINAL


def _flow_exists(namespace: str, flow_id: str) -> None:
    with Session(connections().db) as session:
        flow_store.get_flow(session, namespace, flow_id)


async def _wait_for_end(execution_id: str, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await run_in_threadpool(_ended, execution_id):
            return
        await asyncio.sleep(0.05)


async def _request_body(request: Request, folder: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Inputs and labels; the files of a multipart body go into ``folder`` (created for the first one)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        inputs: dict[str, Any] = {}
        labels: dict[str, str] = {}
        for key, value in form.multi_items():
            if key.startswith("label."):
                labels[key[len("label.") :]] = refuse_nul(str(value), f"the label '{key}'")
            elif hasattr(value, "read"):  # a FILE input: stored, and referenced by its path
                inputs[key] = uploads.save(folder, value.filename, key, await value.read())
            else:
                inputs[key] = refuse_nul(value, f"the field '{key}'")
        return inputs, labels
    raw = await request.body()
    if not raw.strip():
        return {}, {}
    try:
        body = ExecutionRequest.model_validate(json.loads(raw))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the body is not JSON") from None
    except ValueError as exc:
        raise ApiError(422, f"invalid body: {exc}") from None
    return body.inputs, body.labels


@router.post(
    "/executions/trigger/{namespace}/{flow_id}",
    response_model=ExecutionOut,
    status_code=201,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ExecutionRequest.model_json_schema(by_alias=True)},
                "multipart/form-data": {"schema": {"type": "object", "additionalProperties": True}},
            }
        }
    },
)
async def create_execution(
    caller: Caller,
    namespace: str,
    flow_id: str,
    request: Request,
    wait: bool = False,
    timeout: Annotated[float, Query(gt=0, le=3600)] = 300,
) -> ExecutionOut:
    """Start an execution with inputs (JSON, or multipart for FILE inputs); ``wait=true`` returns at its end."""
    authz.require(caller, Action.RUN, namespace, what=f"flow {namespace}/{flow_id}")
    await run_in_threadpool(_flow_exists, namespace, flow_id)  # 404 before a byte of the body is stored
    try:
        folder = uploads.upload_folder(load_settings().home, namespace, flow_id)
    except uploads.UploadRefused as exc:
        raise ApiError(400, str(exc)) from None
    try:
        inputs, labels = await _request_body(request, folder)
        # Loading the flow and checking inputs is blocking work: never on the event loop.
        execution_id = await run_in_threadpool(
            commands.start_execution,
            connections(),
            namespace,
            flow_id,
            inputs=inputs,
            labels=labels,
            trigger={"type": "api", "actor": actor(caller)},
        )
    except BaseException:
        uploads.discard(folder)  # refused inputs, a bad file name, a disabled flow: no orphan files
        raise
    if wait:
        await _wait_for_end(execution_id, timeout)
    return await run_in_threadpool(_read, execution_id)


@router.get("/executions", response_model=ExecutionPage, responses=ERRORS)
def search_executions(
    caller: Caller,
    namespace: str | None = None,
    flow_id: Annotated[str | None, Query(alias="flowId")] = None,
    state: Annotated[list[State], Query()] = (),
    label: Annotated[list[str], Query()] = (),
    q: Annotated[str | None, Query(max_length=100)] = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ExecutionPage:
    """Newest first. ``label`` is KEY:VALUE (repeatable); ``q`` matches the start of an execution id or part
    of a flow id."""
    wanted = ExecutionFilter(
        namespace=namespace,
        flow_id=flow_id,
        states=tuple(s.value for s in state),
        labels=label_filters(list(label)),
        text=q,
        start=start,
        end=end,
        where=authz.readable(caller, Execution.namespace),
    )
    with Session(connections().db) as session:
        rows, total = search.search_executions(session, wanted, page=page, size=size)
        return ExecutionPage(results=[execution_out(r) for r in rows], total=total, page=page, size=size)


@router.get("/executions/{execution_id}", response_model=ExecutionOut, responses=ERRORS)
def get_execution(caller: Caller, execution_id: str) -> ExecutionOut:
    """An execution with its task runs."""
    allowed_execution(caller, Action.READ, execution_id)
    return _read(execution_id)


@router.delete("/executions/{execution_id}", status_code=204, responses=ERRORS)
def delete_execution(caller: Caller, execution_id: str) -> None:
    """Delete an ended execution with its task runs and logs (409 while it runs)."""
    allowed_execution(caller, Action.DELETE_EXECUTION, execution_id)
    with Session(connections().db) as session:
        try:
            search.delete_executions(session, [execution_id])
        except search.ExecutionRunning as exc:
            raise ApiError(409, str(exc)) from None
        session.commit()


@router.post("/executions/{execution_id}/kill", response_model=ExecutionOut, responses=ERRORS)
def kill(caller: Caller, execution_id: str) -> ExecutionOut:
    allowed_execution(caller, Action.KILL, execution_id)
    commands.kill_execution(connections(), execution_id, actor=actor(caller))
    return _read(execution_id)


@router.post("/executions/{execution_id}/restart", response_model=ExecutionOut, responses=ERRORS)
def restart(caller: Caller, execution_id: str) -> ExecutionOut:
    allowed_execution(caller, Action.RESTART, execution_id)
    commands.restart_execution(connections(), execution_id, actor=actor(caller))
    return _read(execution_id)


@router.post("/executions/{execution_id}/replay", response_model=ExecutionOut, status_code=201, responses=ERRORS)
def replay(
    caller: Caller, execution_id: str, task_id: Annotated[str, Query(alias="taskId", min_length=1)]
) -> ExecutionOut:
    """A new execution that keeps what ran before ``taskId``."""
    allowed_execution(caller, Action.RESTART, execution_id)
    try:
        new_id = commands.replay_execution(connections(), execution_id, task_id, actor=actor(caller))
    except LookupError as exc:
        if isinstance(exc, store.ExecutionNotFound):
            raise
        raise ApiError(404, str(exc).strip("'\"")) from None
    return _read(new_id)


@router.post("/executions/{execution_id}/pause", response_model=ExecutionOut, responses=ERRORS)
def pause(caller: Caller, execution_id: str) -> ExecutionOut:
    """Hold the execution: running tasks finish, no new task starts until it is resumed."""
    allowed_execution(caller, Action.PAUSE, execution_id)
    commands.pause_execution(connections(), execution_id, actor=actor(caller))
    return _read(execution_id)


@router.post("/executions/{execution_id}/resume", response_model=ExecutionOut, responses=ERRORS)
def resume(caller: Caller, execution_id: str, body: ResumeRequest | None = None) -> ExecutionOut:
    allowed_execution(caller, Action.PAUSE, execution_id)
    commands.resume_execution(connections(), execution_id, body.inputs if body else {}, actor=actor(caller))
    return _read(execution_id)


def _log_page(execution_id: str, after: int) -> tuple[str, list]:
    """The execution's state and its next page of lines (read off the event loop: a replay of a long log
    goes a page at a time without holding up other requests)."""
    with Session(connections().db) as session:
        state = store.get_execution(session, execution_id).state
        return state, read_logs(session, execution_id, after=after, limit=500)


@router.get(
    "/executions/{execution_id}/follow",
    responses={**ERRORS, 200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
    response_class=StreamingResponse,
)
async def follow(
    caller: Caller,
    request: Request,
    execution_id: str,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> StreamingResponse:
    """Server-Sent Events: ``log`` events (id = the line's position) and ``state`` events, until the end.

    Reconnect with ``Last-Event-ID`` (or ``after``) to resume: no line is lost or repeated. The caller's access
    is checked again every few seconds: a revoked role, token or session ends the stream with an ``error`` event.
    """
    allowed_execution(caller, Action.READ, execution_id)
    position = int(last_event_id) if last_event_id and last_event_id.isdigit() else after

    async def stream():
        nonlocal position
        last_state = None
        idle = 0.0
        checked = asyncio.get_running_loop().time()
        while True:
            if asyncio.get_running_loop().time() - checked >= RECHECK_SECONDS:
                checked = asyncio.get_running_loop().time()
                try:
                    allowed_execution(current_principal(request), Action.READ, execution_id)
                except (authz.Unauthenticated, authz.NotVisible) as exc:
                    yield f"event: error\ndata: {json.dumps({'message': str(exc)})}\n\n"
                    return
            state, lines = await run_in_threadpool(_log_page, execution_id, position)
            for line in lines:
                position = line.id
                payload = {
                    "taskId": line.task_id,
                    "attempt": line.attempt,
                    "level": line.level,
                    "message": line.message,
                    "timestamp": line.timestamp.isoformat(),
                }
                yield f"id: {line.id}\nevent: log\ndata: {json.dumps(payload)}\n\n"
            if state != last_state:
                last_state = state
                yield f"id: {position}\nevent: state\ndata: {json.dumps({'state': state})}\n\n"
            if state in TERMINAL and len(lines) < 500:
                yield f"id: {position}\nevent: end\ndata: {json.dumps({'state': state})}\n\n"
                return
            if not lines:
                idle += 0.1
                if idle >= 15:
                    idle = 0.0
                    yield ": keep-alive\n\n"
                await asyncio.sleep(0.1)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
