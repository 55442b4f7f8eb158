"""The flow: what a YAML document declares, as a validated model."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from engine.durations import Duration
from engine.inputs import Input
from engine.retry import Retry
from engine.spec import TASK_ID_PATTERN, FlowId, NamespaceName, Spec
from engine.triggers import Trigger

if TYPE_CHECKING:
    from engine.tasks.base import Task as AnyTask


class ConcurrencyBehavior(StrEnum):
    QUEUE = "queue"
    CANCEL = "cancel"
    FAIL = "fail"


class Concurrency(Spec):
    limit: Annotated[int, Field(ge=1)]
    behavior: ConcurrencyBehavior = ConcurrencyBehavior.QUEUE


class Output(Spec):
    id: Annotated[str, Field(pattern=TASK_ID_PATTERN, max_length=100)]
    type: Literal[
        "STRING",
        "INT",
        "FLOAT",
        "BOOLEAN",
        "DATE",
        "DATETIME",
        "DURATION",
        "JSON",
        "FILE",
    ] = "STRING"
    value: Any
    description: str | None = None


class Flow(Spec):
    id: FlowId
    namespace: NamespaceName
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    inputs: list[Input] = Field(default_factory=list)
    variables: dict[str, Any] = Field(default_factory=dict)
    tasks: Annotated[list[AnyTask], Field(min_length=1)]
    errors: list[AnyTask] = Field(default_factory=list)
    finally_: Annotated[list[AnyTask], Field(alias="finally")] = Field(default_factory=list)
    outputs: list[Output] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)
    retry: Retry | None = None
    timeout: Duration | None = None
    concurrency: Concurrency | None = None
    disabled: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.id)

    def input(self, input_id: str) -> Any:
        return next((i for i in self.inputs if i.id == input_id), None)
