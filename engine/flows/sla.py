"""Service level agreements of a flow (its ``sla`` list): what an execution promises, what breaking it does.

Two kinds, as in Kestra (whose spellings are accepted too):

- ``maxDuration`` (``MAX_DURATION``): the execution must end within ``duration`` of its creation; the executor's
  timers look at it then, so the breach happens even if nothing else does.
- ``assertion`` (``EXECUTION_ASSERTION``): the ``assert`` expression must be true when the execution's tasks end.

A breach is recorded on the execution with its ``labels`` added to the execution's; its ``behavior`` then says what
happens to the execution: ``fail`` (FAILED, its running tasks stopped), ``cancel`` (KILLED) or ``none`` (only
recorded). Flow triggers listing ``SLA_BREACHED`` in their states start on a breach (engine/runtime/sla_breaches.py).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field

from engine.core.durations import Duration
from engine.flows.spec import TASK_ID_PATTERN, Spec


class SlaBehavior(StrEnum):
    FAIL = "fail"
    CANCEL = "cancel"
    NONE = "none"


class SlaType(StrEnum):
    """The canonical names; ``MAX_DURATION`` and ``EXECUTION_ASSERTION`` (Kestra's) are read as these."""

    MAX_DURATION = "maxDuration"
    ASSERTION = "assertion"


KESTRA_TYPES = {"MAX_DURATION": SlaType.MAX_DURATION, "EXECUTION_ASSERTION": SlaType.ASSERTION}
SLA_BREACHED = "SLA_BREACHED"  # what a flow trigger's ``states`` lists to start on a breach


def _behavior(value: Any) -> Any:
    # Kestra writes FAIL / CANCEL / NONE; Lanner's other behaviours (concurrency) are lowercase.
    return value.lower() if isinstance(value, str) and value.upper() in SlaBehavior.__members__ else value


class _SlaBase(Spec):
    id: Annotated[str, Field(pattern=TASK_ID_PATTERN, max_length=100)]
    """Name of the SLA, unique in the flow; a breach names it."""
    behavior: Annotated[SlaBehavior, BeforeValidator(_behavior)] = Field(
        default=SlaBehavior.FAIL, validation_alias=AliasChoices("behavior", "behaviour")
    )
    """What a breach does to the execution: fail it, cancel it (KILLED), or none (only recorded)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels added to the execution when the SLA is breached."""
    description: str | None = None
    """A note for people reading the flow."""


class MaxDurationSla(_SlaBase):
    type: Literal["maxDuration", "MAX_DURATION"]
    duration: Duration
    """Longest time from the execution's creation to its end, e.g. 30m or PT1H."""

    @property
    def kind(self) -> SlaType:
        return SlaType.MAX_DURATION


class AssertionSla(_SlaBase):
    type: Literal["assertion", "EXECUTION_ASSERTION"]
    assert_: Annotated[str, Field(alias="assert")]
    """An expression that must be true when the execution's tasks end, e.g. {{ outputs.load.rows > 0 }}; it reads
    inputs, outputs, labels and execution (its state and its outputs)."""

    # That it is an expression is checked with the flow's other expressions (engine/flows/checks.py): this module
    # stays below the store, which imports the flow model.

    @property
    def kind(self) -> SlaType:
        return SlaType.ASSERTION


Sla = Annotated[MaxDurationSla | AssertionSla, Field(discriminator="type")]
