"""The scheduler: fires schedule triggers and runs backfills. Safe to run twice: each slot is claimed by
inserting a ``trigger_fire`` row in the same transaction that creates its execution, so a slot fires
exactly once whatever the number of schedulers. What is due is decided by ``engine.core.schedule``."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import redis
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from engine.core.expressions import ExpressionError, render
from engine.core.schedule import backfill_slots, due_slots, next_fire
from engine.core.states import TERMINAL
from engine.flows.inputs import InputsInvalid
from engine.flows.model import Flow
from engine.flows.triggers import ScheduleTrigger
from engine.identity import audit
from engine.metrics import record
from engine.runtime import events
from engine.services.execution_start import create_execution, flow_at
from engine.store import executions as store
from engine.store import triggers as trigger_store
from engine.store.database import session_scope
from engine.store.flows import get_flow
from engine.store.tables import TriggerState, utcnow
from engine.workspace.secrets import MASK, open_inputs, seal_inputs, secret_resolver

log = logging.getLogger("lanner.scheduler")


def schedule_triggers(session: Session) -> list[tuple[Flow, ScheduleTrigger]]:
    rows = trigger_store.live_flow_sources(session)
    found = []
    for namespace, flow_id, revision, source in rows:
        if "schedule" not in source:
            continue
        flow = flow_at(session, namespace, flow_id, revision, source)
        found += [(flow, t) for t in flow.triggers if isinstance(t, ScheduleTrigger)]
    return found


def trigger_state(session: Session, flow: Flow, trigger_id: str, now: dt.datetime) -> TriggerState:
    # first sight: schedules start from now, they do not replay the past
    first = {"lastSlot": now.isoformat()}
    return trigger_store.ensure_trigger_state(session, flow.namespace, flow.id, trigger_id, first)


class Scheduler:
    def __init__(self, db: Engine, r: redis.Redis, *, grace: dt.timedelta = dt.timedelta(minutes=1)) -> None:
        self.db, self.r, self.grace = db, r, grace

    def tick(self, now: dt.datetime | None = None) -> list[str]:
        """Fire what is due at ``now``; returns the executions started."""
        now = now or utcnow()
        with session_scope(self.db) as session:
            triggers = schedule_triggers(session)
        started: list[str] = []
        for flow, trigger in triggers:
            try:
                started += self._schedule(flow, trigger, now)
                started += self._backfill(flow, trigger)
            except Exception:
                log.exception("trigger %s of %s/%s", trigger.id, flow.namespace, flow.id)
                record.trigger_failed(flow.namespace, flow.id, "schedule")
        record.scheduler_ticked()
        if started:
            with self.r.pipeline(transaction=False) as pipe:
                for execution_id in started:
                    events.publish_event(pipe, execution_id)
                pipe.execute()
        return started

    def _busy(self, session: Session, execution_id: str | None) -> bool:
        if not execution_id:
            return False
        execution = store.find_execution(session, execution_id)
        return execution is not None and execution.state not in TERMINAL

    def _schedule(self, flow: Flow, trigger: ScheduleTrigger, now: dt.datetime) -> list[str]:
        with session_scope(self.db) as session:
            state = trigger_state(session, flow, trigger.id, now)
            data = dict(state.data)
            last_slot = dt.datetime.fromisoformat(data["lastSlot"])
            if flow.disabled or trigger.disabled or not state.enabled:
                data["lastSlot"] = max(last_slot, now).isoformat()
                state.data, state.next_fire_at = data, None
                trigger_store.save_trigger_state(session, state)
                return []
            busy = not trigger.allow_concurrent and self._busy(session, state.last_execution_id)
            slots = [] if busy else due_slots(trigger, last_slot, now, grace=self.grace)
            if not busy and not slots:
                data["lastSlot"] = max(last_slot, now).isoformat()  # missed slots the policy drops
            state.data = data
            state.next_fire_at = next_fire(trigger, max(now, last_slot))
            trigger_store.save_trigger_state(session, state)
        started = []
        for slot in slots:
            execution_id = self._fire(flow, trigger, slot)
            with session_scope(self.db) as session:
                state = trigger_state(session, flow, trigger.id, now)
                state.data = {**state.data, "lastSlot": slot.isoformat()}
                if execution_id:
                    state.last_execution_id, state.last_fire_at = execution_id, utcnow()
                state.next_fire_at = next_fire(trigger, max(now, slot))
                trigger_store.save_trigger_state(session, state)
            if execution_id:
                record.schedule_fired(flow.namespace, flow.id, slot=slot, now=utcnow(), backfill=False)
                started.append(execution_id)
                if not trigger.allow_concurrent:
                    break  # the next slot waits until this run has ended
        return started

    def _fire(
        self,
        flow: Flow,
        trigger: ScheduleTrigger,
        slot: dt.datetime,
        *,
        backfill: bool = False,
        inputs: dict[str, Any] | None = None,
        secret_values: dict[str, str] | None = None,
    ) -> str | None:
        """Start the run of one slot unless it already ran; the claim and the execution commit together.

        The trigger's ``inputs`` may read the namespace's secrets (``{{ secret('NAME') }}``): a value read is
        sealed in a SECRET input and masked in the others. ``secret_values`` (a backfill's SECRET inputs) are
        given as they are: never rendered, so a value holding ``{{`` is neither changed nor echoed by an error."""
        details = {"type": "schedule", "id": trigger.id, "date": slot.isoformat(), "backfill": backfill}
        try:
            with session_scope(self.db) as session:
                secret = secret_resolver(session, flow.namespace)
                context = {"trigger": details, "secret": secret}
                rendered = {**render({**trigger.inputs, **(inputs or {})}, context), **(secret_values or {})}
                execution = create_execution(
                    session, flow.namespace, flow.id, inputs=rendered, trigger=details, mask=secret.values_read
                )
                trigger_store.add_trigger_fire(
                    session, flow.namespace, flow.id, trigger.id, slot.isoformat(), execution.id, backfill=backfill
                )
                return execution.id
        except IntegrityError:
            return None  # another scheduler (or an earlier run) fired this slot
        except (ExpressionError, InputsInvalid, store.ExecutionConflict) as exc:
            log.warning("slot %s of %s/%s not started: %s", slot, flow.namespace, flow.id, exc)
            record.trigger_failed(flow.namespace, flow.id, "schedule")
            return None

    def _backfill(self, flow: Flow, trigger: ScheduleTrigger) -> list[str]:
        with session_scope(self.db) as session:
            state = trigger_store.get_trigger_state(session, flow.namespace, flow.id, trigger.id)
            backfill = dict((state.data if state else {}).get("backfill") or {})
            if not backfill or backfill.get("paused") or backfill.get("cancelled") or backfill.get("done"):
                return []
            if not trigger.allow_concurrent and self._busy(session, backfill.get("lastExecutionId")):
                return []
        cursor = dt.datetime.fromisoformat(backfill["cursor"])
        remaining = [
            s
            for s in backfill_slots(
                trigger, dt.datetime.fromisoformat(backfill["start"]), dt.datetime.fromisoformat(backfill["end"])
            )
            if s > cursor
        ]
        started = []
        secret_values = open_inputs(backfill.get("secretInputs")) if remaining else {}
        inputs = {k: v for k, v in (backfill.get("inputs") or {}).items() if k not in secret_values}
        for slot in remaining:
            execution_id = self._fire(flow, trigger, slot, backfill=True, inputs=inputs, secret_values=secret_values)
            cursor = slot
            if execution_id:
                record.schedule_fired(flow.namespace, flow.id, slot=slot, now=utcnow(), backfill=True)
                backfill["fired"] = backfill.get("fired", 0) + 1
                backfill["lastExecutionId"] = execution_id
                started.append(execution_id)
                if not trigger.allow_concurrent:
                    break
            else:
                backfill["skipped"] = backfill.get("skipped", 0) + 1
        backfill["cursor"] = cursor.isoformat()
        backfill["done"] = not [s for s in remaining if s > cursor]
        with session_scope(self.db) as session:
            state = trigger_store.lock_trigger_state(session, flow.namespace, flow.id, trigger.id)
            current = dict(state.data.get("backfill") or {})
            if current.get("cancelled") or current.get("start") != backfill.get("start"):
                return started  # cancelled or replaced meanwhile: keep what the user asked
            state.data = {**state.data, "backfill": {**backfill, "paused": current.get("paused", False)}}
            trigger_store.save_trigger_state(session, state)
        return started

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")
            stop.wait(max(0.0, interval - (time.monotonic() - started)))


def start_backfill(
    db: Engine,
    namespace: str,
    flow_id: str,
    trigger_id: str,
    start: dt.datetime,
    end: dt.datetime,
    inputs: dict[str, Any] | None = None,
    *,
    actor: str = audit.SYSTEM,
) -> dict[str, Any]:
    """Ask the scheduler to run every slot of a schedule in [start, end] (slots that already ran are skipped).

    The range and the inputs are checked by engine.services.triggers.start_backfill, its one caller."""
    with session_scope(db) as session:
        record = get_flow(session, namespace, flow_id)
        flow = flow_at(session, namespace, flow_id, record.revision, record.source)
        trigger = next((t for t in flow.triggers if t.id == trigger_id and isinstance(t, ScheduleTrigger)), None)
        if trigger is None:
            raise LookupError(f"flow {namespace}/{flow_id} has no schedule trigger '{trigger_id}'")
        total = len(backfill_slots(trigger, start, end))
        state = trigger_state(session, flow, trigger_id, utcnow())
        shown, sealed = seal_inputs(inputs or {}, [i.id for i in flow.inputs if i.kind == "SECRET"])
        backfill = {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "inputs": shown,  # SECRET ones as ****, their values encrypted in secretInputs
            "cursor": (start - dt.timedelta(microseconds=1)).isoformat(),
            "total": total,
            "fired": 0,
            "skipped": 0,
            "paused": False,
            "cancelled": False,
            "done": total == 0,
            **({"secretInputs": sealed} if sealed else {}),
        }
        state.data = {**state.data, "backfill": backfill}
        trigger_store.save_trigger_state(session, state)
        asked = {"start": backfill["start"], "end": backfill["end"], "total": total}
        audit.record(
            session, actor, audit.AuditAction.CHANGED, namespace, "trigger", f"{flow_id}/{trigger_id}", backfill=asked
        )
    return backfill_view(backfill)


def backfill_view(backfill: dict[str, Any], secret_inputs: Iterable[str] = ()) -> dict[str, Any]:
    """A backfill as it is shown (API, CLI): without its encrypted ``secretInputs``, and ``secret_inputs`` (the
    flow's SECRET input ids) as ``****`` even in a backfill saved before they were sealed."""
    shown = {key: value for key, value in backfill.items() if key != "secretInputs"}
    if "inputs" in shown:
        inputs = dict(shown["inputs"] or {})
        shown["inputs"] = {**inputs, **{name: MASK for name in secret_inputs if inputs.get(name) is not None}}
    return shown


def set_backfill_flag(db: Engine, namespace: str, flow_id: str, trigger_id: str, **flags: bool) -> dict[str, Any]:
    """Pause, resume or cancel a backfill."""
    with session_scope(db) as session:
        state = trigger_store.lock_trigger_state(session, namespace, flow_id, trigger_id)
        backfill = dict((state.data if state else {}).get("backfill") or {})
        if not backfill:
            raise LookupError(f"no backfill for {namespace}/{flow_id} trigger '{trigger_id}'")
        backfill.update(flags)
        state.data = {**state.data, "backfill": backfill}
        trigger_store.save_trigger_state(session, state)
    return backfill_view(backfill)


def set_trigger_enabled(
    db: Engine, namespace: str, flow_id: str, trigger_id: str, enabled: bool, *, actor: str = audit.SYSTEM
) -> None:
    with session_scope(db) as session:
        record = get_flow(session, namespace, flow_id)
        flow = flow_at(session, namespace, flow_id, record.revision, record.source)
        if not any(t.id == trigger_id for t in flow.triggers):
            raise LookupError(f"flow {namespace}/{flow_id} has no trigger '{trigger_id}'")
        state = trigger_state(session, flow, trigger_id, utcnow())
        state.enabled = enabled
        trigger_store.save_trigger_state(session, state)
        action = audit.AuditAction.ENABLED if enabled else audit.AuditAction.DISABLED
        audit.record(session, actor, action, namespace, "trigger", f"{flow_id}/{trigger_id}")
