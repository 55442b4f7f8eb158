"""Triggers: list with next and last fire, enable and disable, backfill with progress (pause, resume, cancel)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from engine.api.deps import Caller, actor, connections
from engine.api.schemas import ERRORS, Body
from engine.services import triggers
from engine.services.views import TriggerView

router = APIRouter(tags=["triggers"])


class TriggerHealthOut(Body):
    """A realtime trigger as its listener last told: connected to where (since when), what it took, what failed."""

    connected: bool
    where: str | None = None
    consumer: str | None = None
    since: str | None = None
    last_message_at: str | None = None
    received: int = 0
    started: int = 0
    duplicates: int = 0
    last_execution_id: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None


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
    health: TriggerHealthOut | None = None

    @classmethod
    def of(cls, view: TriggerView) -> TriggerOut:
        """The view's fields this body names (the others are the studio's), its switches resolved to one."""
        return cls.model_validate({**view.model_dump(), "enabled": view.enabled})


class BackfillRequest(Body):
    start: dt.datetime
    end: dt.datetime
    inputs: dict[str, Any] = {}


@router.get("/triggers", response_model=list[TriggerOut])
def list_triggers(caller: Caller, namespace: str | None = None) -> list[TriggerOut]:
    """Every trigger the caller may read; realtime ones with their listener's health."""
    opened = connections()
    return [TriggerOut.of(view) for view in triggers.list_triggers(opened.db, caller, namespace, opened.redis)]


@router.post("/triggers/{namespace}/{flow_id}/{trigger_id}/enable", status_code=204, responses=ERRORS)
def enable(caller: Caller, namespace: str, flow_id: str, trigger_id: str) -> None:
    triggers.set_enabled(connections().db, caller, namespace, flow_id, trigger_id, True, actor=actor(caller))


@router.post("/triggers/{namespace}/{flow_id}/{trigger_id}/disable", status_code=204, responses=ERRORS)
def disable(caller: Caller, namespace: str, flow_id: str, trigger_id: str) -> None:
    triggers.set_enabled(connections().db, caller, namespace, flow_id, trigger_id, False, actor=actor(caller))


@router.post("/triggers/{namespace}/{flow_id}/{trigger_id}/backfill", response_model=dict[str, Any], responses=ERRORS)
def backfill(caller: Caller, namespace: str, flow_id: str, trigger_id: str, body: BackfillRequest) -> dict[str, Any]:
    """Run every slot of a schedule in [start, end]; slots that already ran are skipped."""
    start = body.start if body.start.tzinfo else body.start.replace(tzinfo=dt.UTC)
    end = body.end if body.end.tzinfo else body.end.replace(tzinfo=dt.UTC)
    return triggers.start_backfill(
        connections().db, caller, namespace, flow_id, trigger_id, start, end, body.inputs, actor=actor(caller)
    )


@router.post(
    "/triggers/{namespace}/{flow_id}/{trigger_id}/backfill/{action}", response_model=dict[str, Any], responses=ERRORS
)
def backfill_action(caller: Caller, namespace: str, flow_id: str, trigger_id: str, action: str) -> dict[str, Any]:
    return triggers.backfill_action(connections().db, caller, namespace, flow_id, trigger_id, action)
