"""Triggers: list them with their next and last fire, flip a person's switch, backfill schedules, find a webhook.

The scheduler (``engine.runtime.scheduler``) does the firing and keeps each trigger's state; these functions read
that state and write what a person asks, once ``principal`` may: reading a flow's triggers needs ``READ`` on its
namespace (filtered in SQL), the switch ``EDIT_TRIGGER`` and backfills ``BACKFILL``. The scheduler's own refusals
become typed ones here: an unknown trigger or backfill is ``NotFound``, a bad range or input ``InvalidInput``.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from sqlalchemy import Engine
from sqlmodel import Session

from engine.core.errors import InvalidInput, NotFound
from engine.core.schedule import backfill_slots, minute_utc
from engine.flows.model import Flow
from engine.flows.triggers import ListenedTrigger, ScheduleTrigger, WebhookTrigger
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.runtime import scheduler, trigger_health
from engine.runtime.flow_triggers import trigger_enabled
from engine.services.execution_start import flow_at
from engine.services.views import TriggerView
from engine.store import flows as flow_store
from engine.store import triggers as store
from engine.store.tables import FlowRecord

BACKFILL_FLAGS = {"pause": {"paused": True}, "resume": {"paused": False}, "cancel": {"cancelled": True}}
Result = TypeVar("Result")


def list_triggers(
    db: Engine, principal: Principal, namespace: str | None = None, r: redis.Redis | None = None
) -> list[TriggerView]:
    """Every trigger of every live flow ``principal`` may read (of ``namespace`` and those below it, if given); with
    ``r``, realtime triggers come with their listener's health."""
    found: list[TriggerView] = []
    with Session(db) as session:
        readable = authz.readable(principal, FlowRecord.namespace)
        for record in flow_store.list_flows(session, namespace or None, where=readable):
            flow = flow_at(session, record.namespace, record.flow_id, record.revision, record.source)
            states = store.trigger_states_of(session, record.namespace, record.flow_id)
            secret_inputs = [i.id for i in flow.inputs if i.kind == "SECRET"]
            for declared in flow.triggers:
                state = states.get(declared.id)
                fire = store.last_fire(session, record.namespace, record.flow_id, declared.id)
                backfill = (state.data if state else {}).get("backfill")
                found.append(
                    TriggerView(
                        namespace=record.namespace,
                        flow_id=record.flow_id,
                        id=declared.id,
                        type=declared.type,
                        disabled_in_yaml=declared.disabled or flow.disabled,
                        enabled_by_person=state is None or state.enabled,
                        next_fire_at=state.next_fire_at if state else None,
                        last_fire_at=state.last_fire_at if state else None,
                        last_execution_id=state.last_execution_id if state else None,
                        last_fired_at=fire.created_at if fire else None,
                        last_fired_execution_id=fire.execution_id if fire else None,
                        backfill=scheduler.backfill_view(backfill, secret_inputs) if backfill else None,
                        inputs=[i.id for i in flow.inputs],
                        secret_inputs=secret_inputs,
                        declared=declared,
                    )
                )
    if r is not None:
        keys = [f"{v.namespace}/{v.flow_id}/{v.id}" for v in found if isinstance(v.declared, ListenedTrigger)]
        health = trigger_health.read_health(r, keys)
        found = [
            view.model_copy(update={"health": health.get(f"{view.namespace}/{view.flow_id}/{view.id}")})
            for view in found
        ]
    return found


def _typed(call: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """The scheduler's call, its builtin refusals turned into the typed ones every adapter maps."""
    try:
        return call(*args, **kwargs)
    except (NotFound, InvalidInput):
        raise
    except LookupError as exc:
        raise NotFound(str(exc.args[0]) if exc.args else str(exc)) from None  # a KeyError's str() is quoted
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def set_enabled(
    db: Engine, principal: Principal, namespace: str, flow_id: str, trigger_id: str, enabled: bool, *, actor: str
) -> None:
    """The person's switch; a trigger disabled in its YAML stays off whatever the switch says."""
    authz.require_flow(principal, Action.EDIT_TRIGGER, namespace, flow_id)
    _typed(scheduler.set_trigger_enabled, db, namespace, flow_id, trigger_id, enabled, actor=actor)


def _schedule(db: Engine, namespace: str, flow_id: str, trigger_id: str) -> tuple[Flow, ScheduleTrigger]:
    with Session(db) as session:
        record = flow_store.get_flow(session, namespace, flow_id)
        flow = flow_at(session, namespace, flow_id, record.revision, record.source)
    trigger = next((t for t in flow.triggers if t.id == trigger_id), None)
    if not isinstance(trigger, ScheduleTrigger):
        raise NotFound(f"flow {namespace}/{flow_id} has no schedule trigger '{trigger_id}'")
    return flow, trigger


def _checked_inputs(flow: Flow, trigger: ScheduleTrigger, inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs a backfill gives each run (empty fields dropped); ``InvalidInput`` naming each bad one.

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
        raise InvalidInput("; ".join(errors))
    return given


def start_backfill(
    db: Engine,
    principal: Principal,
    namespace: str,
    flow_id: str,
    trigger_id: str,
    start: dt.datetime,
    end: dt.datetime,
    inputs: dict[str, Any] | None = None,
    *,
    actor: str,
) -> dict[str, Any]:
    """Ask the scheduler to run every slot of a schedule in [start, end]; returns the backfill as shown.

    Refused before anything is kept: a range that ends before it starts or holds no slot, an unknown or badly
    typed input, a missing required one (``InvalidInput``); an unknown flow or schedule trigger (``NotFound``)."""
    authz.require_flow(principal, Action.BACKFILL, namespace, flow_id)
    if end < start:
        raise InvalidInput("the backfill ends before it starts")
    flow, trigger = _typed(_schedule, db, namespace, flow_id, trigger_id)
    given = _checked_inputs(flow, trigger, inputs or {})
    if not backfill_slots(trigger, start, end):
        raise InvalidInput(f"no slot of this schedule falls between {minute_utc(start)} and {minute_utc(end)}")
    return _typed(scheduler.start_backfill, db, namespace, flow_id, trigger_id, start, end, given, actor=actor)


class UnknownBackfillAction(NotFound, ValueError):
    """An action other than pause, resume or cancel: a path naming nothing to the API (404), a caller's mistake to
    the studio (``ValueError``)."""


def backfill_action(
    db: Engine, principal: Principal, namespace: str, flow_id: str, trigger_id: str, action: str
) -> dict[str, Any]:
    """Pause, resume or cancel the trigger's backfill (``action``); returns it as shown."""
    authz.require_flow(principal, Action.BACKFILL, namespace, flow_id)
    flags = BACKFILL_FLAGS.get(action)
    if flags is None:
        raise UnknownBackfillAction(f"no backfill action '{action}' (pause, resume or cancel)")
    return _typed(scheduler.set_backfill_flag, db, namespace, flow_id, trigger_id, **flags)


def find_webhook(db: Engine, namespace: str, flow_id: str, key: str) -> WebhookTrigger | None:
    """The enabled webhook trigger with this key; None for a missing flow, a wrong key or a disabled one alike."""
    with Session(db) as session:
        try:
            record = flow_store.get_flow(session, namespace, flow_id)
        except flow_store.FlowNotFound:
            return None
        flow = flow_at(session, namespace, flow_id, record.revision, record.source)
        if flow.disabled:
            return None
        for trigger in flow.triggers:
            if isinstance(trigger, WebhookTrigger) and hmac.compare_digest(trigger.key.encode(), key.encode()):
                enabled = not trigger.disabled and trigger_enabled(session, namespace, flow_id, trigger.id)
                return trigger if enabled else None
    return None
