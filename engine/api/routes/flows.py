"""Flows: search, read (JSON or YAML), create and update from YAML, delete, revisions, diff, validate, graph."""

from __future__ import annotations

import difflib
import getpass
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from engine.api.deps import Caller, actor, connections
from engine.api.errors import ApiError, label_filters
from engine.api.schemas import ERRORS, DeployOut, FlowOut, FlowPage, GraphOut, RevisionOut, ValidationOut
from engine.services import flows
from engine.services.views import FlowView

router = APIRouter(tags=["flows"])
MAX_INT = 2**31 - 1
YAML = "application/x-yaml"
YAML_BODY = {"requestBody": {"required": True, "content": {YAML: {"schema": {"type": "string"}}}}}


async def _yaml_text(request: Request) -> str:
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the body is not UTF-8 text (byte {exc.start})") from None


def _out(view: FlowView) -> FlowOut:
    return FlowOut.model_validate(view, from_attributes=True)


@router.get("/flows", response_model=FlowPage, responses=ERRORS)
def search_flows(
    caller: Caller,
    namespace: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    label: Annotated[list[str], Query()] = (),
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> FlowPage:
    """Flows of a namespace (and those below it), matching text in their id or description and labels."""
    wanted = label_filters(list(label))
    records = [
        r
        for r in flows.search(connections().db, caller, namespace, q or "")
        if all(str(r.labels.get(k)) == v for k, v in wanted.items())
    ]
    chosen = records[(page - 1) * size : page * size]
    return FlowPage(results=[_out(r) for r in chosen], total=len(records), page=page, size=size)


@router.get(
    "/flows/{namespace}/{flow_id}",
    response_model=FlowOut,
    responses={**ERRORS, 200: {"content": {"application/json": {}, YAML: {"schema": {"type": "string"}}}}},
)
def get_flow(
    caller: Caller, namespace: str, flow_id: str, accept: Annotated[str | None, Header()] = None
) -> FlowOut | Response:
    """The current revision; with ``Accept: application/x-yaml``, its YAML source exactly as deployed."""
    flow = flows.get(connections().db, caller, namespace, flow_id)
    if accept and YAML in accept:
        return Response(flow.source, media_type=YAML)
    return _out(flow)


def _deploy(caller: Caller, text: str, expected: tuple[str, str] | None = None) -> DeployOut:
    author = actor(caller, getpass.getuser())
    deployed = flows.save(connections().db, caller, text, filename="body", expected=expected, author=author)
    return DeployOut.model_validate(deployed, from_attributes=True)


@router.post("/flows", response_model=DeployOut, responses=ERRORS, openapi_extra=YAML_BODY)
async def create_flow(caller: Caller, request: Request) -> DeployOut:
    """Create or update a flow from its YAML source; a new revision only when the text changed."""
    # Parsing and checking take CPU time: in a thread, so the event loop goes on serving everyone else.
    return await run_in_threadpool(_deploy, caller, await _yaml_text(request))


@router.put("/flows/{namespace}/{flow_id}", response_model=DeployOut, responses=ERRORS, openapi_extra=YAML_BODY)
async def update_flow(caller: Caller, namespace: str, flow_id: str, request: Request) -> DeployOut:
    return await run_in_threadpool(_deploy, caller, await _yaml_text(request), (namespace, flow_id))


@router.delete("/flows/{namespace}/{flow_id}", status_code=204, responses=ERRORS)
def delete_flow(caller: Caller, namespace: str, flow_id: str) -> Response:
    flows.delete(connections().db, caller, namespace, flow_id, author=actor(caller, getpass.getuser()))
    return Response(status_code=204)


@router.get("/flows/{namespace}/{flow_id}/revisions", response_model=list[RevisionOut], responses=ERRORS)
def list_revisions(caller: Caller, namespace: str, flow_id: str) -> list[RevisionOut]:
    return [
        RevisionOut.model_validate(r, from_attributes=True)
        for r in flows.revisions(connections().db, caller, namespace, flow_id)
    ]


@router.get(
    "/flows/{namespace}/{flow_id}/revisions/{revision}",
    responses={**ERRORS, 200: {"content": {YAML: {"schema": {"type": "string"}}}}},
    response_class=Response,
)
def get_revision(
    caller: Caller, namespace: str, flow_id: str, revision: Annotated[int, Path(ge=1, le=MAX_INT)]
) -> Response:
    """A revision's YAML source, byte for byte."""
    return Response(flows.revision_source(connections().db, caller, namespace, flow_id, revision), media_type=YAML)


@router.get(
    "/flows/{namespace}/{flow_id}/diff",
    responses={**ERRORS, 200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    response_class=Response,
)
def diff_revisions(
    caller: Caller,
    namespace: str,
    flow_id: str,
    from_revision: Annotated[int, Query(alias="from", ge=1, le=MAX_INT)],
    to_revision: Annotated[int, Query(alias="to", ge=1, le=MAX_INT)],
) -> Response:
    """A unified diff between two revisions."""
    before = flows.revision_source(connections().db, caller, namespace, flow_id, from_revision)
    after = flows.revision_source(connections().db, caller, namespace, flow_id, to_revision)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"revision {from_revision}",
        tofile=f"revision {to_revision}",
    )
    return Response("".join(lines), media_type="text/plain")


@router.post("/flows/validate", response_model=ValidationOut, responses=ERRORS, openapi_extra=YAML_BODY)
async def validate_flow(_: Caller, request: Request) -> ValidationOut:
    """The same line/column problems as ``lanner flow validate``."""
    # Too large, too deep or an alias bomb: refused like a deploy (422), not reported as a flow.
    checked = await run_in_threadpool(flows.validate, await _yaml_text(request), "body")
    return ValidationOut.model_validate(checked, from_attributes=True)


@router.get("/flows/{namespace}/{flow_id}/graph", response_model=GraphOut, responses=ERRORS)
def get_graph(
    caller: Caller, namespace: str, flow_id: str, revision: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None
) -> GraphOut:
    return GraphOut(**flows.graph(connections().db, caller, namespace, flow_id, revision))
