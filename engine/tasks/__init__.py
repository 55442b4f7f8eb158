"""The task registry with every built-in task type registered and the task union built."""

from engine.flow import Flow
from engine.tasks import core, flowable, http, scripts  # noqa: F401 - importing registers them
from engine.tasks.base import FlowableTask, ListField, Task, child_lists, registry

registry.finish(FlowableTask, Flow)

__all__ = ["Flow", "FlowableTask", "ListField", "Task", "child_lists", "registry"]
