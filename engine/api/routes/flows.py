"""Flows: search, read (JSON or YAML), create and update from YAML, delete, revisions, diff, validate, graph."""

from __future__ import annotations

import difflib
import getpass
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from engine import authz
from engine.access import Action
from engine.api.deps import Caller, actor, connections
from engine.api.errors import ApiError, label_filters
from engine.api.schemas import ERRORS, DeployOut, FlowOut, FlowPage, GraphOut, RevisionOut, ValidationOut
from engine.graph import flow_graph
from engine.loader import load_flow, load_flow_or_raise
from engine.problems import FlowInvalid
from engine.store import flows as store
from engine.store.database import session_scope
from engine.store.tables import FlowRecord

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


def _out(record: store.FlowRecord, with_source: bool = False) -> FlowOut:
    return FlowOut(
        namespace=record.namespace,
        id=record.flow_id,
        revision=record.revision,
        description=record.description,
        labels=record.labels,
        disabled=record.disabled,
        updated_at=record.updated_at,
        updated_by=record.updated_by,
        source=record.source if with_source else None,
    )


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
    needle = (q or "").lower()
    with session_scope(connections().db) as session:
        records = [
            r
            for r in store.list_flows(session, namespace, where=authz.readable(caller, FlowRecord.namespace))
            if (not needle or needle in f"{r.namespace}/{r.flow_id} {r.description or ''}".lower())
            and all(str(r.labels.get(k)) == v for k, v in wanted.items())
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
    authz.require_flow(caller, Action.READ, namespace, flow_id)
    with session_scope(connections().db) as session:
        record = store.get_flow(session, namespace, flow_id)
    if accept and YAML in accept:
        return Response(record.source, media_type=YAML)
    return _out(record, with_source=True)


def _deploy(caller: Caller, text: str, expected: tuple[str, str] | None = None) -> DeployOut:
    if expected:
        authz.require_flow(caller, Action.EDIT_FLOW, *expected)
    flow = load_flow_or_raise(text, "body")
    if expected and (flow.namespace, flow.id) != expected:
        raise ApiError(409, f"the body declares {flow.namespace}/{flow.id}, not {expected[0]}/{expected[1]}")
    authz.require_flow(caller, Action.EDIT_FLOW, flow.namespace, flow.id)
    with session_scope(connections().db) as session:
        result = store.save_flow(session, flow, text, author=actor(caller, getpass.getuser()))
    return DeployOut(
        namespace=result.namespace,
        id=result.flow_id,
        revision=result.revision,
        status=result.status.value,
        message=result.describe(),
    )


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
    authz.require_flow(caller, Action.EDIT_FLOW, namespace, flow_id)
    with session_scope(connections().db) as session:
        store.delete_flow(session, namespace, flow_id, author=actor(caller, getpass.getuser()))
    return Response(status_code=204)


@router.get("/flows/{namespace}/{flow_id}/revisions", response_model=list[RevisionOut], responses=ERRORS)
def list_revisions(caller: Caller, namespace: str, flow_id: str) -> list[RevisionOut]:
    authz.require_flow(caller, Action.READ, namespace, flow_id)
    with session_scope(connections().db) as session:
        revisions = store.list_revisions(session, namespace, flow_id)
    if not revisions:
        raise store.FlowNotFound(f"no flow {namespace}/{flow_id}")
    return [
        RevisionOut(
            revision=r.revision, created_at=r.created_at, author=r.author, deleted=r.deleted, sha256=r.source_sha256
        )
        for r in revisions
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
    authz.require_flow(caller, Action.READ, namespace, flow_id)
    with session_scope(connections().db) as session:
        found = store.get_revision(session, namespace, flow_id, revision)
    return Response(found.source, media_type=YAML)


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
    authz.require_flow(caller, Action.READ, namespace, flow_id)
    with session_scope(connections().db) as session:
        before = store.get_revision(session, namespace, flow_id, from_revision).source
        after = store.get_revision(session, namespace, flow_id, to_revision).source
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
    result = await run_in_threadpool(load_flow, await _yaml_text(request), "body")
    if result.refused:  # too large, too deep or an alias bomb: refused like a deploy, not reported as a flow
        raise FlowInvalid(result.problems)
    return ValidationOut(valid=result.ok, problems=[p.as_dict() for p in result.problems])


@router.get("/flows/{namespace}/{flow_id}/graph", response_model=GraphOut, responses=ERRORS)
def get_graph(
    caller: Caller, namespace: str, flow_id: str, revision: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None
) -> GraphOut:
    authz.require_flow(caller, Action.READ, namespace, flow_id)
    from engine.services.execution_start import flow_at

    with session_scope(connections().db) as session:
        record = store.get_flow(session, namespace, flow_id)
        flow = flow_at(session, namespace, flow_id, revision or record.revision)
    return GraphOut(**flow_graph(flow).as_dict())
