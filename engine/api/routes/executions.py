"""Executions: start (JSON or multipart with files), search, read, kill, restart, replay, resume, follow (SSE)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from engine.api.deps import Caller, actor, as_caller, connections, current_principal
from engine.api.errors import ApiError, label_filters
from engine.api.guards import refuse_nul
from engine.api.schemas import ERRORS, ExecutionOut, ExecutionPage, ExecutionRequest, PurgeOut, ResumeRequest
from engine.config import load_settings
from engine.core.states import State
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.runtime.live import followers
from engine.services import executions, retention
from engine.services.executions import ExecutionFilter
from engine.services.views import ExecutionView, LogLineView
from engine.workspace import uploads

router = APIRouter(tags=["executions"])
RECHECK_SECONDS = 5.0  # a live stream re-reads who is watching this often: revoked access ends it


def allowed_execution(caller: Principal, action: Action, execution_id: str) -> ExecutionView:
    return executions.require(connections().db, caller, action, execution_id)


def _read(execution_id: str) -> ExecutionOut:
    return ExecutionOut.of_view(executions.read(connections().db, execution_id))


def _ended(execution_id: str) -> bool:
    return executions.read(connections().db, execution_id).ended


async def _wait_for_end(execution_id: str, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await run_in_threadpool(_ended, execution_id):
            return
        await asyncio.sleep(0.05)


async def _form_body(request: Request, folder: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Inputs and labels of a multipart body; its files go into ``folder`` (created for the first one)."""
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


def _json_body(raw: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """Inputs and labels of a JSON body (none for an empty one)."""
    if not raw.strip():
        return {}, {}
    try:
        body = ExecutionRequest.model_validate(json.loads(raw))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the body is not JSON") from None
    except ValueError as exc:
        raise ApiError(422, f"invalid body: {exc}") from None
    return body.inputs, body.labels


def _start(caller: Principal, namespace: str, flow_id: str, raw: bytes) -> ExecutionView:
    """A trigger with a JSON body, who calls included: blocking work (loading the flow, checking inputs)."""
    try:
        uploads.check_names(namespace, flow_id)
    except uploads.UploadRefused as exc:
        raise ApiError(400, str(exc)) from None
    inputs, labels = _json_body(raw)
    trigger = {"type": "api", "actor": actor(caller)}
    return executions.start(connections(), caller, namespace, flow_id, inputs=inputs, labels=labels, trigger=trigger)


async def _start_with_files(request: Request, namespace: str, flow_id: str) -> ExecutionView:
    """A trigger with a multipart body: who calls, and whether they may run the flow, before a file is stored."""
    caller = await run_in_threadpool(current_principal, request)
    await run_in_threadpool(executions.check_may_run, connections().db, caller, namespace, flow_id)  # 403/404
    try:
        folder = uploads.upload_folder(load_settings().home, namespace, flow_id)
    except uploads.UploadRefused as exc:
        raise ApiError(400, str(exc)) from None
    try:
        inputs, labels = await _form_body(request, folder)
        return await run_in_threadpool(
            executions.start,
            connections(),
            caller,
            namespace,
            flow_id,
            inputs=inputs,
            labels=labels,
            trigger={"type": "api", "actor": actor(caller)},
        )
    except BaseException:
        uploads.discard(folder)  # refused inputs, a bad file name, a disabled flow: no orphan files
        raise


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
    request: Request,
    namespace: str,
    flow_id: str,
    wait: bool = False,
    timeout: Annotated[float, Query(gt=0, le=3600)] = 300,
) -> ExecutionOut:
    """Start an execution with inputs (JSON, or multipart for FILE inputs); ``wait=true`` returns at its end."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        started = await _start_with_files(request, namespace, flow_id)
    else:  # the common call: who calls and the start in one trip to the thread pool
        started = await as_caller(request, _start, namespace, flow_id, await request.body())
    if wait:
        await _wait_for_end(started.id, timeout)
        return await run_in_threadpool(_read, started.id)
    return ExecutionOut.of_view(started)  # as committed: no read back


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
    )
    found = executions.search(connections().db, caller, wanted, page=page, size=size)
    return ExecutionPage(
        results=[ExecutionOut.of_view(r) for r in found.results], total=found.total, page=page, size=size
    )


@router.get("/executions/{execution_id}", response_model=ExecutionOut, responses=ERRORS)
async def get_execution(
    request: Request, execution_id: str, task_runs: Annotated[bool, Query(alias="taskRuns")] = True
) -> ExecutionOut:
    """An execution with its task runs; each run not started yet says why it waits (``waiting``). With
    ``taskRuns=false``, the execution alone (``taskRuns`` null): what a client polling for its end needs, at the
    same cost however many task runs it has."""
    return await as_caller(request, _execution, execution_id, task_runs)


def _execution(caller: Principal, execution_id: str, task_runs: bool) -> ExecutionOut:
    conn = connections()
    if not task_runs:
        return ExecutionOut.of_view(allowed_execution(caller, Action.READ, execution_id))
    return ExecutionOut.of_view(executions.with_waiting(conn.redis, executions.get(conn.db, caller, execution_id)))


@router.post("/executions/purge", response_model=PurgeOut, responses=ERRORS)
def purge(
    caller: Caller,
    older_than: Annotated[str, Query(alias="olderThan", min_length=1)],
    namespace: str | None = None,
    flow_id: Annotated[str | None, Query(alias="flowId")] = None,
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
) -> PurgeOut:
    """Delete ended executions that ended more than ``olderThan`` (e.g. 30d) ago, with their logs and files;
    administrators only. Returns how many executions, log lines and files were (with ``dryRun``: would be) deleted."""
    report = retention.purge(
        connections().db, caller, older_than, namespace=namespace, flow_id=flow_id, dry_run=dry_run
    )
    return PurgeOut(executions=report.executions, logs=report.logs, files=report.files, dry_run=dry_run)


@router.delete("/executions/{execution_id}", status_code=204, responses=ERRORS)
def delete_execution(caller: Caller, execution_id: str) -> None:
    """Delete an ended execution with its task runs and logs (409 while it runs)."""
    executions.delete(connections().db, caller, [execution_id])


@router.post("/executions/{execution_id}/kill", response_model=ExecutionOut, responses=ERRORS)
def kill(caller: Caller, execution_id: str) -> ExecutionOut:
    return ExecutionOut.of_view(executions.kill(connections(), caller, execution_id, actor=actor(caller)))


@router.post("/executions/{execution_id}/restart", response_model=ExecutionOut, responses=ERRORS)
def restart(caller: Caller, execution_id: str) -> ExecutionOut:
    return ExecutionOut.of_view(executions.restart(connections(), caller, execution_id, actor=actor(caller)))


@router.post("/executions/{execution_id}/replay", response_model=ExecutionOut, status_code=201, responses=ERRORS)
def replay(
    caller: Caller, execution_id: str, task_id: Annotated[str, Query(alias="taskId", min_length=1)]
) -> ExecutionOut:
    """A new execution that keeps what ran before ``taskId``."""
    return ExecutionOut.of_view(executions.replay(connections(), caller, execution_id, task_id, actor=actor(caller)))


@router.post("/executions/{execution_id}/pause", response_model=ExecutionOut, responses=ERRORS)
def pause(caller: Caller, execution_id: str) -> ExecutionOut:
    """Hold the execution: running tasks finish, no new task starts until it is resumed."""
    return ExecutionOut.of_view(executions.pause(connections(), caller, execution_id, actor=actor(caller)))


@router.post("/executions/{execution_id}/resume", response_model=ExecutionOut, responses=ERRORS)
def resume(caller: Caller, execution_id: str, body: ResumeRequest | None = None) -> ExecutionOut:
    inputs = body.inputs if body else {}
    return ExecutionOut.of_view(executions.resume(connections(), caller, execution_id, inputs, actor=actor(caller)))


def _log_event(line: LogLineView) -> str:
    """One ``log`` event; ``line`` is any object with a log line's fields (the live follower hands stored rows)."""
    payload = {
        "taskId": line.task_id,
        "attempt": line.attempt,
        "level": line.level,
        "message": line.message,
        "timestamp": line.timestamp.isoformat(),
    }
    return f"id: {line.id}\nevent: log\ndata: {json.dumps(payload)}\n\n"


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

    live = followers(connections().db, load_settings().redis_url)

    async def stream():
        nonlocal position
        last_state = None
        loop = asyncio.get_running_loop()
        checked = quiet = loop.time()
        async with contextlib.aclosing(live.watch(execution_id, after=position, idle=1.0)) as updates:
            async for update in updates:
                if loop.time() - checked >= RECHECK_SECONDS:
                    checked = loop.time()
                    try:
                        allowed_execution(current_principal(request), Action.READ, execution_id)
                    except (authz.Unauthenticated, authz.NotVisible) as exc:
                        yield f"event: error\ndata: {json.dumps({'message': str(exc)})}\n\n"
                        return
                events = [_log_event(line) for line in update.lines]
                if update.lines:
                    position = update.lines[-1].id
                if update.state != last_state:
                    last_state = update.state
                    events.append(f"id: {position}\nevent: state\ndata: {json.dumps({'state': update.state})}\n\n")
                if update.ended:
                    events.append(f"id: {position}\nevent: end\ndata: {json.dumps({'state': update.state})}\n\n")
                if events:
                    quiet = loop.time()
                    yield "".join(events)
                elif loop.time() - quiet >= 15:
                    quiet = loop.time()
                    yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
