"""Webhooks: an HTTP call to /webhooks/{namespace}/{flowId}/{key} starts that flow, and nothing else."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from engine.api.deps import connections
from engine.api.routes.executions import _read, _wait_for_end
from engine.api.schemas import ERRORS, ExecutionOut
from engine.services import commands, triggers

router = APIRouter(tags=["webhooks"])
NOT_FOUND = "no webhook at this address"


@router.api_route(
    "/webhooks/{namespace}/{flow_id}/{key}",
    methods=["GET", "POST", "PUT"],
    status_code=201,
    response_model=ExecutionOut,
    responses=ERRORS,
)
async def webhook(namespace: str, flow_id: str, key: str, request: Request) -> ExecutionOut | JSONResponse:
    """Start the flow; the call's body, headers and query are ``trigger.body``, ``trigger.headers`` and
    ``trigger.parameters``. A trigger with ``wait: true`` answers at the execution's end, with its outputs."""
    # Finding the trigger parses the flow: blocking work, off the event loop.
    trigger = await run_in_threadpool(triggers.find_webhook, connections().db, namespace, flow_id, key)
    if trigger is None:
        return JSONResponse({"message": NOT_FOUND}, status_code=404)
    raw = await request.body()
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        body = text
    headers = {k: v for k, v in request.headers.items() if k.lower() not in ("authorization", "cookie")}
    details = {
        "type": "webhook",
        "id": trigger.id,
        "body": body,
        "headers": headers,
        "parameters": dict(request.query_params),
    }
    execution_id = await run_in_threadpool(commands.start_execution, connections(), namespace, flow_id, trigger=details)
    if trigger.wait:
        await _wait_for_end(execution_id, 300)
        ended = await run_in_threadpool(_read, execution_id)
        return JSONResponse(ended.model_dump(mode="json", by_alias=True), status_code=200)
    return await run_in_threadpool(_read, execution_id)


for _method in ("GET", "POST", "PUT"):
    router.add_api_route(
        "/webhooks/{namespace}/{flow_id}/{key}",
        webhook,
        methods=[_method],
        status_code=201,
        response_model=ExecutionOut,
        responses={**ERRORS, 200: {"model": ExecutionOut}},
        operation_id=f"webhook_{_method.lower()}",
    )
