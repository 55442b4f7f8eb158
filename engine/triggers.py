"""Trigger declarations: schedules, webhooks and flow-end triggers."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from enum import StrEnum
from typing import Annotated, Any, Literal

from croniter import croniter
from pydantic import Field, field_validator

from engine.spec import TASK_ID_PATTERN, FlowId, NamespaceName, Spec

CRON_ALIASES = (
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
)


def check_cron(expression: str) -> str:
    """Accept 5 fields, 6 with seconds last-free (leading seconds as in Kestra), or an @alias."""
    text = " ".join(expression.split())
    if text.startswith("@"):
        if text not in CRON_ALIASES:
            raise ValueError(f"unknown cron alias '{text}' (use one of {', '.join(CRON_ALIASES)})")
        return text
    fields = text.split(" ")
    if len(fields) not in (5, 6):
        raise ValueError(f"cron '{expression}' has {len(fields)} fields; expected 5 (or 6 with seconds first)")
    try:
        croniter(_croniter_form(text), dt.datetime(2026, 1, 1))
    except (ValueError, KeyError) as exc:
        raise ValueError(f"invalid cron '{expression}': {exc}") from None
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
    description: str | None = None
    disabled: bool = False


class ScheduleTrigger(_TriggerBase):
    type: Literal["schedule"]
    cron: str
    timezone: str = "UTC"
    inputs: dict[str, Any] = Field(default_factory=dict)
    recover_missed_schedules: RecoverMissed = RecoverMissed.LAST
    allow_concurrent: bool = False

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
    wait: bool = False


class FlowCondition(Spec):
    namespace: NamespaceName
    flow_id: FlowId | None = None


class FlowTrigger(_TriggerBase):
    type: Literal["flow"]
    conditions: Annotated[list[FlowCondition], Field(min_length=1)]
    states: list[Literal["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"]] = Field(
        default_factory=lambda: ["SUCCESS"]
    )
    inputs: dict[str, Any] = Field(default_factory=dict)


Trigger = Annotated[ScheduleTrigger | WebhookTrigger | FlowTrigger, Field(discriminator="type")]
