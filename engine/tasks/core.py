"""Core tasks: log, return, sleep, fail."""

from __future__ import annotations

import time
from typing import Any, ClassVar, Literal

from engine.core.durations import Duration
from engine.flows.spec import Computed
from engine.tasks.base import Group, LogLevel, Task, registry
from engine.tasks.context import RunContext, TaskFailed


@registry.register
class Log(Task):
    type: Literal["log"]
    message: str | list[str]
    """The text to write; give a list to write several lines."""
    level: Computed[LogLevel] = LogLevel.INFO
    """How important the message is (INFO, WARN, ERROR...)."""

    title: ClassVar[str] = "Log a message"
    summary: ClassVar[str] = "Write one or more lines to the execution's logs."
    group: ClassVar[Group] = Group.CORE
    icon: ClassVar[str] = "scroll-text"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"message": "Loading the orders of {{ inputs.day }}", "level": "INFO"},
        {"message": ["Step 1 done", "{{ outputs.extract.rows }} rows read"]},
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        for line in [self.message] if isinstance(self.message, str) else self.message:
            ctx.log(self.level.value, str(line))
        return {}


@registry.register
class Return(Task):
    type: Literal["return"]
    value: Any
    """The value to expose to later tasks as outputs.<id>.value; expressions are evaluated."""

    title: ClassVar[str] = "Return a value"
    summary: ClassVar[str] = "Evaluate an expression and expose it as this task's output 'value'."
    icon: ClassVar[str] = "corner-down-left"
    examples: ClassVar[tuple[dict[str, Any], ...]] = ({"value": "{{ outputs.extract.size > 0 }}"},)
    output_fields: ClassVar[dict[str, str]] = {"value": "The value given, with its expressions evaluated."}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"value": self.value}


@registry.register
class Sleep(Task):
    type: Literal["sleep"]
    duration: Computed[Duration]
    """How long to wait (e.g. 30s, 5m, PT1H)."""

    title: ClassVar[str] = "Wait"
    summary: ClassVar[str] = "Pause this branch for a fixed duration."
    icon: ClassVar[str] = "hourglass"
    examples: ClassVar[tuple[dict[str, Any], ...]] = ({"duration": "30s"},)

    def run(self, ctx: RunContext) -> dict[str, Any]:
        end = time.monotonic() + self.duration.total_seconds()
        while (left := end - time.monotonic()) > 0:
            ctx.check()
            time.sleep(min(left, 0.05))
        return {}


@registry.register
class Fail(Task):
    type: Literal["fail"]
    message: str = "Failed on purpose"
    """The error shown on the failed task."""

    title: ClassVar[str] = "Fail"
    summary: ClassVar[str] = "Stop with an error message, e.g. when a check does not hold."
    icon: ClassVar[str] = "octagon-x"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"message": "No orders for {{ inputs.day }}", "runIf": "{{ outputs.count.value == 0 }}"},
    )

    def run(self, ctx: RunContext) -> dict[str, Any]:
        raise TaskFailed(self.message)
