"""Triggers as the scheduler keeps them: each declared trigger of the live flows with its state (the switch a
person flips, the last fire, a backfill), and what people change in that state (the switch, backfills).

The scheduler does the firing (``engine/runtime/scheduler.py``); these functions decide access once, then read
its state or ask it for the change, which it records in the audit trail. Reading needs ``READ`` on the flow's
namespace (filtered in SQL), the switch ``EDIT_TRIGGER`` and backfills ``BACKFILL``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from engine.core.schedule import backfill_slots
from engine.flows.model import Flow
from engine.flows.triggers import FlowTrigger, ScheduleTrigger, WebhookTrigger
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.runtime import scheduler
from engine.services.execution_start import flow_at
from engine.store import flows as flow_store
from engine.store import triggers as trigger_store
from engine.store.database import session_scope
from engine.store.tables import FlowRecord

# What each backfill action sets on the scheduler's backfill.
BACKFILL_ACTIONS = {"pause": {"paused": True}, "resume": {"paused": False}, "cancel": {"cancelled": True}}


@dataclass(frozen=True)
class DeclaredTrigger:
    """A trigger of a live flow's current revision, with what the scheduler keeps about it."""

    flow: Flow
    trigger: ScheduleTrigger | WebhookTrigger | FlowTrigger
    enabled_by_person: bool  # the switch (``lanner trigger enable|disable``, the API, the studio)
    last_fire_at: dt.datetime | None  # the newer of the last fire recorded and the scheduler's own mark
    last_execution_id: str | None  # the execution that fire started
    backfill: dict[str, Any] | None  # as ``scheduler.backfill_view`` shows it (no encrypted inputs)

    @property
    def disabled_in_yaml(self) -> bool:
        """The trigger (or its whole flow) says ``disabled: true``: off whatever the switch says."""
        return self.trigger.disabled or self.flow.disabled


def minute_utc(instant: dt.datetime | None) -> str:
    """``2026-01-01 06:00 UTC`` (a naive instant is UTC); empty for None."""
    if instant is None:
        return ""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _require(principal: Principal, action: Action, namespace: str, flow_id: str) -> None:
    authz.require(principal, action, namespace, what=f"flow {namespace}/{flow_id}")


def declared_triggers(db: Engine, principal: Principal, namespace: str | None = None) -> list[DeclaredTrigger]:
    """Every trigger of every live flow ``principal`` may read (of ``namespace`` and below, if given)."""
    found: list[DeclaredTrigger] = []
    readable = authz.readable(principal, FlowRecord.namespace)
    with session_scope(db) as session:
        for record in flow_store.list_flows(session, namespace or None, where=readable):
            flow = flow_at(session, record.namespace, record.flow_id, record.revision, record.source)
            for declared in flow.triggers:
                state = trigger_store.get_trigger_state(session, record.namespace, record.flow_id, declared.id)
                fire = trigger_store.last_fire(session, record.namespace, record.flow_id, declared.id)
                last_at = max(
                    (t for t in (fire.created_at if fire else None, state.last_fire_at if state else None) if t),
                    default=None,
                )
                last_execution = (
                    fire.execution_id
                    if fire and (last_at == fire.created_at)
                    else (state.last_execution_id if state else None)
                )
                backfill = (state.data if state else {}).get("backfill")
                found.append(
                    DeclaredTrigger(
                        flow=flow,
                        trigger=declared,
                        enabled_by_person=state is None or state.enabled,
                        last_fire_at=last_at,
                        last_execution_id=last_execution,
                        backfill=scheduler.backfill_view(backfill) if backfill else None,
                    )
                )
    return found


def set_enabled(db: Engine, principal: Principal, namespace: str, flow_id: str, trigger_id: str, enabled: bool) -> None:
    """The person's switch; a trigger disabled in its YAML stays off whatever the switch says."""
    _require(principal, Action.EDIT_TRIGGER, namespace, flow_id)
    scheduler.set_trigger_enabled(db, namespace, flow_id, trigger_id, enabled, actor=principal.name)


def _schedule(db: Engine, namespace: str, flow_id: str, trigger_id: str) -> tuple[Flow, ScheduleTrigger]:
    with session_scope(db) as session:
        record = flow_store.get_flow(session, namespace, flow_id)
        flow = flow_at(session, namespace, flow_id, record.revision, record.source)
    trigger = next((t for t in flow.triggers if t.id == trigger_id), None)
    if not isinstance(trigger, ScheduleTrigger):
        raise LookupError(f"flow {namespace}/{flow_id} has no schedule trigger '{trigger_id}'")
    return flow, trigger


def _checked_inputs(flow: Flow, trigger: ScheduleTrigger, inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs a backfill gives each run (empty fields dropped); ``ValueError`` naming each bad one.

    The trigger's own ``inputs`` come first, the ones given here override them; values with expressions
    (``{{ trigger.date }}``) are rendered per slot by the scheduler, so only literal values are checked."""
    given = {k: v for k, v in inputs.items() if v not in ("", None)}
    declared = {i.id: i for i in flow.inputs}
    errors = [f"unknown input '{name}'" for name in given if name not in declared]
    merged = {**trigger.inputs, **given}
    for decl in flow.inputs:
        value = merged.get(decl.id)
        if value in (None, ""):
            if decl.required and decl.defaults is None:
                errors.append(f"input '{decl.id}' is required")
            continue
        if decl.id in given and not (isinstance(value, str) and "{{" in value):
            try:
                decl.coerce(value)
            except ValueError as exc:
                errors.append(f"input '{decl.id}': {exc}")
    if errors:
        raise ValueError("; ".join(errors))
    return given


def start_backfill(
    db: Engine,
    principal: Principal,
    namespace: str,
    flow_id: str,
    trigger_id: str,
    first: dt.datetime,
    last: dt.datetime,
    inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ask the scheduler to run every slot in [first, last]; returns the backfill as it is shown.

    ``ValueError`` for a bad range or bad inputs, ``LookupError`` for an unknown flow or schedule trigger."""
    _require(principal, Action.BACKFILL, namespace, flow_id)
    if last < first:
        raise ValueError("the backfill ends before it starts")
    flow, trigger = _schedule(db, namespace, flow_id, trigger_id)
    given = _checked_inputs(flow, trigger, inputs or {})
    if not backfill_slots(trigger, first, last):
        raise ValueError(f"no slot of this schedule falls between {minute_utc(first)} and {minute_utc(last)}")
    return scheduler.start_backfill(db, namespace, flow_id, trigger_id, first, last, given, actor=principal.name)


def backfill_action(
    db: Engine, principal: Principal, namespace: str, flow_id: str, trigger_id: str, action: str
) -> dict[str, Any]:
    """Pause, resume or cancel the trigger's backfill (``BACKFILL_ACTIONS``); ``LookupError`` when it has none."""
    _require(principal, Action.BACKFILL, namespace, flow_id)
    if action not in BACKFILL_ACTIONS:
        raise ValueError(f"no backfill action '{action}' (pause, resume or cancel)")
    return scheduler.set_backfill_flag(db, namespace, flow_id, trigger_id, **BACKFILL_ACTIONS[action])
