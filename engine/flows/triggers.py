"""Trigger declarations: schedules, webhooks and flow-end triggers."""

from __future__ import annotations

import datetime as dt
import re
import typing
import zoneinfo
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from croniter import croniter
from pydantic import Field, field_validator

from engine.core.durations import Duration
from engine.flows.spec import TASK_ID_PATTERN, FlowId, NamespaceName, Spec

CRON_ALIASES = (
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
)


# The five fields (after optional leading seconds) and the numbers each takes: said to people when one is outside.
_CRON_RANGES = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
CRON_FIELDS = "minute, hour, day of month, month, day of week; e.g. 0 9 * * MON-FRI is 09:00 on weekdays"


def check_cron(expression: str) -> str:
    """Accept 5 fields, 6 with seconds last-free (leading seconds as in Kestra), or an @alias."""
    text = " ".join(expression.split())
    if text.startswith("@"):
        if text not in CRON_ALIASES:
            raise ValueError(f"unknown cron alias '{text}' (use one of {', '.join(CRON_ALIASES)})")
        return text
    fields = text.split(" ")
    if len(fields) not in (5, 6):
        raise ValueError(
            f"cron '{expression}' has {len(fields)} fields; expected 5 (or 6 with seconds first): {CRON_FIELDS}"
        )
    for value, (name, low, high) in zip(fields[-5:], _CRON_RANGES, strict=True):
        for part in re.split(r"[,-]", value.split("/")[0]):
            if part.isdigit() and not low <= int(part) <= high:
                raise ValueError(f"cron '{text}': the {name} field is {part}, but it must be from {low} to {high}")
    try:
        croniter(_croniter_form(text), dt.datetime(2026, 1, 1))
    except (ValueError, KeyError) as exc:
        raise ValueError(f"invalid cron '{expression}': {exc} (fields: {CRON_FIELDS})") from None
    return text


def _croniter_form(text: str) -> str:
    """croniter puts optional seconds last; Lanner (like Kestra and Quartz) puts them first."""
    fields = text.split(" ")
    return " ".join(fields[1:] + fields[:1]) if len(fields) == 6 else text


def cron_iter(expression: str, start: dt.datetime) -> croniter:
    return croniter(_croniter_form(expression), start)


class RecoverMissed(StrEnum):
    ALL = "all"
    LAST = "last"
    NONE = "none"


class _TriggerBase(Spec):
    id: Annotated[str, Field(pattern=TASK_ID_PATTERN, max_length=100)]
    """Name of the trigger, unique in the flow."""
    description: str | None = None
    """A note for people reading the flow."""
    disabled: bool = False
    """A disabled trigger does not start the flow."""


class ScheduleTrigger(_TriggerBase):
    type: Literal["schedule"]
    cron: str
    """When to start, as a cron expression (e.g. 0 6 * * * for 6:00 every day) or @daily, @hourly..."""
    timezone: str = "UTC"
    """Time zone of the cron times, e.g. Europe/Paris."""
    inputs: dict[str, Any] = Field(default_factory=dict)
    """Input values given to each started execution."""
    recover_missed_schedules: RecoverMissed = RecoverMissed.LAST
    """Starts missed while Lanner was down: run them all, only the last, or none."""
    allow_concurrent: bool = False
    """Start even when the previous scheduled execution is still running."""

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (use an IANA name such as Europe/Paris)") from None
        return value


class WebhookTrigger(_TriggerBase):
    type: Literal["webhook"]
    key: Annotated[str, Field(min_length=8, max_length=256, pattern=r"^[A-Za-z0-9_-]+$")]
    """Secret part of the webhook URL; whoever knows it can start the flow."""
    wait: bool = False
    """Answer the webhook call only once the execution has ended (up to 5 minutes), with its outputs."""


class FlowCondition(Spec):
    namespace: NamespaceName
    """Namespace of the flows to watch."""
    flow_id: FlowId | None = None
    """One flow to watch; without it, every flow of the namespace."""


class FlowTrigger(_TriggerBase):
    type: Literal["flow"]
    conditions: Annotated[list[FlowCondition], Field(min_length=1)]
    """Which flows, when they end, start this one."""
    states: list[Literal["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "SLA_BREACHED"]] = Field(
        default_factory=lambda: ["SUCCESS"]
    )
    """End states of the watched flows that start this one; SLA_BREACHED starts it when a watched execution breaks
    one of its SLAs (the breach is trigger.sla: id, type, behavior, reason, labels)."""
    inputs: dict[str, Any] = Field(default_factory=dict)
    """Input values given to the started execution."""


class ListenedTrigger(_TriggerBase):
    """A trigger run by ``lanner trigger-listener`` (engine/runtime/trigger_listener.py): a broker's realtime
    trigger, or a polling one (a SQL query, a URL). Its subscription hands out messages (a broker's, or what a poll
    found); each starts an execution, and is acknowledged (to the broker; for a SQL poll, its transaction commits)
    only once that execution is committed. Subclasses say how to subscribe."""

    inputs: dict[str, Any] = Field(default_factory=dict)
    """Input values given to each started execution; they may read what started it, e.g. {{ trigger.json.id }}."""
    max_queued: Annotated[int, Field(ge=1, le=100_000)] = 1000
    """Stop taking messages while this many executions of the flow wait to run (the flow's concurrency limit,
    or a busy cluster): they stay in the broker instead of filling the database."""

    #: Settings holding expressions on what a message brings (rendered for each one, not when connecting).
    rendered_later: ClassVar[frozenset[str]] = frozenset({"inputs"})

    @property
    def batched(self) -> bool:
        return False

    def subscribe(self, name: str, consumer: str, namespace: str) -> Any:
        """An ``engine.messaging.base.Subscription`` of this trigger. ``name`` is the same for this trigger whichever
        listener runs it (a durable consumer, a consumer group, an MQTT client id); ``consumer`` names this
        listener (a consumer group's member); ``namespace`` is the flow's (what it may reach of internal storage)."""
        raise NotImplementedError

    def where(self) -> str:
        """The broker and the queue/topic/subject listened to, or what is polled, for people (no password)."""
        raise NotImplementedError

    def details(self, batch: list[Any], keep: Callable[[Any], str]) -> dict[str, Any]:
        """What the started execution reads as ``trigger.*`` besides its type and id: the message's fields, or for
        a batch its count and the stored file of its messages (``keep`` stores records as JSON lines, or a file
        given by its path, for the execution, and gives the file's lanner:// address)."""
        if self.batched:
            return {"count": len(batch), "uri": keep([message.as_output() for message in batch])}
        return batch[0].as_output()


class RealtimeTrigger(ListenedTrigger):
    """A trigger that listens to a broker (``<broker>.realtime``): one execution per message, or per batch when
    ``maxRecords`` or ``maxDuration`` is set. At least once: a message is acknowledged once its execution is
    committed, and a redelivered message with the broker's id is recognised and starts nothing new."""

    max_records: Annotated[int, Field(ge=1, le=100_000)] | None = None
    """Batch: start one execution for up to this many messages, kept as a file (trigger.uri, trigger.count)."""
    max_duration: Duration | None = None
    """Batch: start one execution with the messages received within this time (e.g. 30s), when any came."""

    @property
    def batched(self) -> bool:
        return self.max_records is not None or self.max_duration is not None


class PollingTrigger(ListenedTrigger):
    """A trigger that looks every ``interval`` (a SQL query, a URL) and starts an execution when it finds something."""

    interval: Duration = dt.timedelta(seconds=60)
    """How often to look, e.g. 30s or 5m."""

    @field_validator("interval")
    @classmethod
    def _not_too_often(cls, value: dt.timedelta) -> dt.timedelta:
        if value < dt.timedelta(milliseconds=100):
            raise ValueError("interval must be at least 100ms")
        return value


BUILT_IN_TRIGGERS: tuple[type[_TriggerBase], ...] = (ScheduleTrigger, WebhookTrigger, FlowTrigger)
Trigger = Annotated[ScheduleTrigger | WebhookTrigger | FlowTrigger, Field(discriminator="type")]
"""The built-in triggers; a flow's ``triggers`` also take the types registered in ``trigger_types``."""


class TriggerTypes:
    """Triggers defined beside the tasks they share settings with (a broker's realtime trigger beside its consume
    task, engine/tasks/messaging), registered like task types; ``engine.tasks.base.Registry.finish`` builds the
    union a flow's ``triggers`` take."""

    def __init__(self) -> None:
        self._types: dict[str, type[_TriggerBase]] = {}

    @staticmethod
    def name_of(cls: type[_TriggerBase]) -> str:
        return cls.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]  # its Literal

    def register(self, cls: type[_TriggerBase]) -> type[_TriggerBase]:
        name = self.name_of(cls)
        if name in self._types and self._types[name] is not cls:
            raise ValueError(f"trigger type '{name}' is registered twice")
        self._types[name] = cls
        return cls

    def models(self) -> list[type[_TriggerBase]]:
        return [*BUILT_IN_TRIGGERS, *(self._types[name] for name in sorted(self._types))]

    def names(self) -> list[str]:
        """Every trigger type, the built-in ones first."""
        return [self.name_of(model) for model in self.models()]

    def union(self) -> Any:
        return Annotated[typing.Union[tuple(self.models())], Field(discriminator="type")]  # noqa: UP007


trigger_types = TriggerTypes()
