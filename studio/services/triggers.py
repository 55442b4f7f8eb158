"""Triggers for the studio: every trigger of every live flow with its next and last fire, the switch a
person flips (``set_enabled``), and schedule backfills (``start_backfill``, ``backfill_action``).

``engine.services.triggers`` reads the scheduler's state and asks it for the changes; these functions turn
the page's text into its arguments and its views into the page's rows. Each takes the person asking
(``principal``) first: the list holds only the namespaces they may read (in SQL), the switch needs the
``edit_trigger`` right and backfills the ``backfill`` right on the flow's namespace."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.core.durations import format_duration
from engine.core.schedule import next_fire
from engine.flows.triggers import (
    FlowTrigger,
    ListenedTrigger,
    PollingTrigger,
    RealtimeTrigger,
    ScheduleTrigger,
    WebhookTrigger,
)
from engine.identity import authz
from engine.identity.policy import Action, Principal, can
from engine.runtime.trigger_health import TriggerHealth
from engine.services import triggers as service
from engine.services.connections import database, redis_if_configured
from studio.services.cron_words import cron_hint

WEBHOOK_PATH = "/api/v1/webhooks/{namespace}/{flow_id}/{key}"  # engine/api/routes/webhooks.py under /api/v1


@dataclass(frozen=True)
class Backfill:
    start: str
    end: str
    total: int
    fired: int
    skipped: int
    paused: bool
    cancelled: bool
    done: bool

    @property
    def running(self) -> bool:
        """Slots are still to be fired (a paused backfill is not running, but not over either)."""
        return not (self.done or self.cancelled or self.paused)

    @property
    def over(self) -> bool:
        return self.done or self.cancelled

    @property
    def status(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.done:
            return "done"
        return "paused" if self.paused else "running"


@dataclass(frozen=True)
class TriggerRow:
    namespace: str
    flow_id: str
    trigger_id: str
    type: str
    description: str
    disabled_in_yaml: bool  # the trigger (or its whole flow) says ``disabled: true``
    enabled_by_person: bool  # the switch: ``lanner trigger enable|disable``, the API, this page
    next_fire: dt.datetime | None = None  # UTC; None when it will not fire on a schedule
    timezone: str = ""  # a schedule's own wall clock
    last_fire_at: dt.datetime | None = None
    last_execution_id: str = ""
    backfill: Backfill | None = None
    inputs: list[str] = field(default_factory=list)
    secret_inputs: list[str] = field(default_factory=list)  # typed in a password field in the backfill dialog
    may_edit: bool = False  # the person may flip the switch
    may_backfill: bool = False
    schedule_words: str = ""  # a schedule's cron in plain words (cron_words)
    realtime: bool = False  # run by a trigger listener: ``health`` is its last word (None: never run yet)
    health: TriggerHealth | None = None

    @property
    def enabled(self) -> bool:
        return self.enabled_by_person and not self.disabled_in_yaml


def describe(
    namespace: str, flow_id: str, trigger: ScheduleTrigger | WebhookTrigger | FlowTrigger | ListenedTrigger
) -> str:
    """One line saying when the trigger starts the flow ``namespace/flow_id``."""
    if isinstance(trigger, PollingTrigger):
        return f"every {format_duration(trigger.interval)}: {trigger.where()}"
    if isinstance(trigger, RealtimeTrigger):
        batch = [f"up to {trigger.max_records} messages"] if trigger.max_records else []
        batch += [f"within {format_duration(trigger.max_duration)}"] if trigger.max_duration else []
        return f"batches ({', '.join(batch)}) of {trigger.where()}" if batch else f"each message of {trigger.where()}"
    if isinstance(trigger, ScheduleTrigger):
        return f"cron {trigger.cron} ({trigger.timezone})"
    if isinstance(trigger, WebhookTrigger):
        path = WEBHOOK_PATH.format(namespace=namespace, flow_id=flow_id, key=trigger.key)
        return f"GET/POST/PUT {path}" + (" (waits for the end)" if trigger.wait else "")
    watched = ", ".join(
        f"{c.namespace}/{c.flow_id}" if c.flow_id else f"any flow of {c.namespace}" for c in trigger.conditions
    )
    return f"when {watched} ends in {' or '.join(trigger.states)}"


def _backfill(data: dict[str, Any] | None) -> Backfill | None:
    if not data:
        return None
    return Backfill(
        start=str(data.get("start", "")),
        end=str(data.get("end", "")),
        total=int(data.get("total", 0)),
        fired=int(data.get("fired", 0)),
        skipped=int(data.get("skipped", 0)),
        paused=bool(data.get("paused")),
        cancelled=bool(data.get("cancelled")),
        done=bool(data.get("done")),
    )


def list_triggers(
    principal: Principal, namespace: str | None = None, now: dt.datetime | None = None
) -> list[TriggerRow]:
    """Every trigger of every live flow the person may read (of ``namespace`` and the ones below it, if given)."""
    now = now or dt.datetime.now(dt.UTC)
    rows: list[TriggerRow] = []
    for found in service.list_triggers(database(), principal, namespace or None, redis_if_configured()):
        # The newer of the fire the scheduler recorded and its own mark, with the execution that fire started.
        last_at = max((t for t in (found.last_fired_at, found.last_fire_at) if t), default=None)
        fired_last = found.last_fired_at is not None and last_at == found.last_fired_at
        last_execution = found.last_fired_execution_id if fired_last else found.last_execution_id
        scheduled = isinstance(found.declared, ScheduleTrigger)
        upcoming = next_fire(found.declared, now) if scheduled and found.enabled else None
        rows.append(
            TriggerRow(
                namespace=found.namespace,
                flow_id=found.flow_id,
                trigger_id=found.id,
                type=found.type,
                description=describe(found.namespace, found.flow_id, found.declared),
                disabled_in_yaml=found.disabled_in_yaml,
                enabled_by_person=found.enabled_by_person,
                next_fire=upcoming,
                timezone=found.declared.timezone if scheduled else "",
                last_fire_at=last_at,
                last_execution_id=last_execution or "",
                backfill=_backfill(found.backfill),
                inputs=found.inputs,
                secret_inputs=found.secret_inputs,
                may_edit=can(principal, Action.EDIT_TRIGGER, found.namespace),
                may_backfill=can(principal, Action.BACKFILL, found.namespace),
                schedule_words=cron_hint(found.declared.cron)["words"] if scheduled else "",
                realtime=isinstance(found.declared, ListenedTrigger),
                health=found.health,
            )
        )
    return rows


def _require(principal: Principal, action: Action, namespace: str, flow_id: str) -> None:
    authz.require(principal, action, namespace, what=f"flow {namespace}/{flow_id}")


def set_enabled(principal: Principal, namespace: str, flow_id: str, trigger_id: str, enabled: bool) -> None:
    """The person's switch; a trigger disabled in its YAML stays off whatever the switch says."""
    service.set_enabled(database(), principal, namespace, flow_id, trigger_id, enabled, actor=principal.name)


def parse_moment(text: str, name: str) -> dt.datetime:
    """A date-time typed in the page (``2026-01-01T06:00`` from a datetime-local input), UTC unless it says."""
    if not text.strip():
        raise ValueError(f"give the {name} date and time")
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time (the {name})") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def start_backfill(
    principal: Principal,
    namespace: str,
    flow_id: str,
    trigger_id: str,
    start: str,
    end: str,
    inputs: dict[str, Any] | None = None,
) -> Backfill:
    """Ask the scheduler to run every slot in [start, end] (UTC unless the text has an offset).

    Raises ``ValueError`` for a bad range or bad inputs, ``LookupError`` for an unknown flow or trigger."""
    _require(principal, Action.BACKFILL, namespace, flow_id)  # a refusal comes before any complaint about the dates
    first, last = parse_moment(start, "start"), parse_moment(end, "end")
    started = service.start_backfill(
        database(), principal, namespace, flow_id, trigger_id, first, last, inputs, actor=principal.name
    )
    return _backfill(started)


def backfill_action(principal: Principal, namespace: str, flow_id: str, trigger_id: str, action: str) -> Backfill:
    """Pause, resume or cancel the trigger's backfill; another ``action`` raises ``service.UnknownBackfillAction``
    (a ``ValueError``)."""
    return _backfill(service.backfill_action(database(), principal, namespace, flow_id, trigger_id, action))
