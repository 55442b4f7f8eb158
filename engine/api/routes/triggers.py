"""Triggers: list with next and last fire, enable and disable, backfill with progress (pause, resume, cancel)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from sqlmodel import Session

from engine.api.deps import Caller, actor, connections
from engine.api.errors import ApiError
from engine.api.schemas import ERRORS, Body
from engine.identity import authz
from engine.identity.policy import Action
from engine.runtime.scheduler import backfill_view, set_backfill_flag, set_trigger_enabled, start_backfill
from engine.services.execution_start import flow_at
from engine.store import flows as flow_store
from engine.store.tables import FlowRecord, TriggerState

router = APIRouter(tags=["triggers"])


class TriggerOut(Body):
    namespace: str
    flow_id: str
    id: str
    type: str
    enabled: bool
    next_fire_at: dt.datetime | None = None
    last_fire_at: dt.datetime | None = None
    last_execution_id: str | None = None
    backfill: dict[str, Any] | None = None


class BackfillRequest(Body):
    start: dt.datetime
    end: dt.datetime
    inputs: dict[str, Any] = {}


@router.get("/triggers", response_model=list[TriggerOut])
def list_triggers(caller: Caller, namespace: str | None = None) -> list[TriggerOut]:
    found = []
    with Session(connections().db) as session:
        for record in flow_store.list_flows(session, namespace, where=authz.readable(caller, FlowRecord.namespace)):
            flow = flow_at(session, record.namespace, record.flow_id, record.revision, record.source)
            secret_inputs = [i.id for i in flow.inputs if i.kind == "SECRET"]
            for declared in flow.triggers:
                state = session.get(TriggerState, (record.namespace, record.flow_id, declared.id))
                backfill = state.data.get("backfill") if state else None
                found.append(
                    TriggerOut(
                        namespace=record.namespace,
                        flow_id=record.flow_id,
                        id=declared.id,
                        type=declared.type,
                        enabled=not declared.disabled and not flow.disabled and (state is None or state.enabled),
                        next_fire_at=state.next_fire_at if state else None,
                        last_fire_at=state.last_fire_at if state else None,
                        last_execution_id=state.last_execution_id if state else None,
                        backfill=backfill_view(backfill, secret_inputs) if backfill else None,
                    )
                )
    return found


def _lookup(call, *args, **kwargs):
    try:
        return call(connections().db, *args, **kwargs)
    except flow_store.FlowNotFound:
        raise
    except LookupError as exc:
        raise ApiError(404, str(exc).strip("'\"")) from None
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None


@router.post("/triggers/{namespace}/{flow_id}/{trigger_id}/enable", status_code=204, responses=ERRORS)
def enable(caller: Caller, namespace: str, flow_id: str, trigger_id: str) -> None:
    authz.require_flow(caller, Action.EDIT_TRIGGER, namespace, flow_id)
    _lookup(set_trigger_enabled, namespace, flow_id, trigger_id, True, actor=actor(caller))


@router.post("/triggers/{namespace}/{flow_id}/{trigger_id}/disable", status_code=204, responses=ERRORS)
def disable(caller: Caller, namespace: str, flow_id: str, trigger_id: str) -> None:
    authz.require_flow(caller, Action.EDIT_TRIGGER, namespace, flow_id)
    _lookup(set_trigger_enabled, namespace, flow_id, trigger_id, False, actor=actor(caller))


@router.post("/triggers/{namespace}/{flow_id}/{trigger_id}/backfill", response_model=dict[str, Any], responses=ERRORS)
def backfill(caller: Caller, namespace: str, flow_id: str, trigger_id: str, body: BackfillRequest) -> dict[str, Any]:
    """Run every slot of a schedule in [start, end]; slots that already ran are skipped."""
    authz.require_flow(caller, Action.BACKFILL, namespace, flow_id)
    start = body.start if body.start.tzinfo else body.start.replace(tzinfo=dt.UTC)
    end = body.end if body.end.tzinfo else body.end.replace(tzinfo=dt.UTC)
    return _lookup(start_backfill, namespace, flow_id, trigger_id, start, end, body.inputs, actor=actor(caller))


@router.post(
    "/triggers/{namespace}/{flow_id}/{trigger_id}/backfill/{action}", response_model=dict[str, Any], responses=ERRORS
)
def backfill_action(caller: Caller, namespace: str, flow_id: str, trigger_id: str, action: str) -> dict[str, Any]:
    authz.require_flow(caller, Action.BACKFILL, namespace, flow_id)
    flags = {"pause": {"paused": True}, "resume": {"paused": False}, "cancel": {"cancelled": True}}.get(action)
    if flags is None:
        raise ApiError(404, f"no backfill action '{action}' (pause, resume or cancel)")
    return _lookup(set_backfill_flag, namespace, flow_id, trigger_id, **flags)
