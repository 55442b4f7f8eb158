"""What every task has in common, and the one registry that knows every task type."""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.core.durations import Duration
from engine.core.levels import LogLevel
from engine.core.retry import Retry
from engine.flows.spec import Computed, Spec, TaskId, WorkerGroup


class Group(StrEnum):
    """Palette groups, in the order the studio shows them."""

    CORE = "Core"
    FLOW_CONTROL = "Flow control"
    SCRIPTS = "Scripts"
    HTTP = "HTTP"
    DATABASES = "Databases"
    DATA = "Data and files"
    NOTIFICATIONS = "Notifications"
    MESSAGING = "Messaging"


@dataclass(frozen=True)
class ListField:
    """A field of a task that holds task lists.

    ``parallel`` lists start every task at once unless it names ``dependsOn``; other lists follow
    the ordering rule (a task without ``dependsOn`` waits for the one before it). ``is_map`` fields
    hold one list per key (switch cases), and each key becomes the edge label.
    """

    name: str
    relation: Literal["sequence", "branch", "error", "finally"] = "sequence"
    label: str | None = None
    parallel: bool = False
    is_map: bool = False


ERRORS_FIELD = ListField("errors", relation="error")
FINALLY_FIELD = ListField("finally", relation="finally")


class Task(Spec):
    """Properties every task type accepts."""

    id: TaskId
    """Unique name of the task in the flow; other tasks read its outputs as outputs.<id>."""
    type: str
    """The kind of task (log, shell, http.request...)."""
    description: str | None = None
    """A note for people reading the flow; it does not change what the task does."""
    depends_on: list[str] | None = None
    """Tasks that must end first; without it, the task waits for the one before it."""
    retry: Retry | None = None
    """Try again after a failure, with a wait between attempts."""
    timeout: Computed[Duration] | None = None
    """Fail the task when it runs longer than this (e.g. 10m)."""
    disabled: Computed[bool] = False
    """Skip this task without running it."""
    allow_failure: Computed[bool] = False
    """Let the flow go on when this task fails; the execution ends in WARNING."""
    run_if: str | None = None
    """Run the task only when this expression is true; otherwise it is skipped."""
    log_level: Computed[LogLevel] | None = None
    """Drop log lines below this level."""
    worker_group: WorkerGroup | None = None
    """Run on the workers of this group only (started with `lanner worker --group NAME`), e.g. gpu; unset: the
    flow's, else the namespace's, else any worker without a group."""

    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    group: ClassVar[Group] = Group.CORE
    icon: ClassVar[str] = "box"
    #: Ready-to-use property sets (as written in YAML, without id and type) shown in the task's help and schema.
    examples: ClassVar[tuple[dict[str, Any], ...]] = ()
    #: What the task gives later tasks (as ``outputs.<id>.<name>``): each output's name and what it holds.
    output_fields: ClassVar[dict[str, str]] = {}
    #: "worker" tasks are run by workers; "executor" tasks are decided by the executor itself.
    runs_on: ClassVar[Literal["worker", "executor"]] = "worker"
    list_fields: ClassVar[tuple[ListField, ...]] = ()

    def run(self, ctx: RunContext) -> dict[str, Any]:
        """Do the task's work on a worker and return its outputs. Properties arrive already rendered."""
        raise NotImplementedError(f"task type {self.type} is decided by the executor, not run by a worker")

    @classmethod
    def type_name(cls) -> str:
        (name,) = typing.get_args(cls.model_fields["type"].annotation)
        return name


class FlowableTask(Task):
    """A task that holds task lists of its own; it may have its own ``errors`` and ``finally``."""

    errors: list[AnyTask] | None = None
    """Tasks run when a task of this group fails."""
    finally_: Annotated[list[AnyTask] | None, Field(alias="finally")] = None
    """Tasks run at the end of this group, whether it failed or not."""

    runs_on: ClassVar[Literal["worker", "executor"]] = "executor"
    group: ClassVar[Group] = Group.FLOW_CONTROL


if TYPE_CHECKING:
    from engine.tasks.context import RunContext

if TYPE_CHECKING:  # at run time the name is bound by ``registry.finish`` to the union of all types
    AnyTask = Task


def child_lists(task: Any) -> list[tuple[ListField, str | None, list[Any]]]:
    """The task lists held by ``task`` (a model or raw YAML data): (field, label, tasks)."""
    if isinstance(task, dict):
        model = registry.get(task.get("type")) if isinstance(task.get("type"), str) else None

        def read(name: str) -> Any:
            return task.get(name)
    else:
        model = type(task)

        def read(name: str) -> Any:
            field = next(
                (k for k, f in model.model_fields.items() if (f.alias or k) == name),
                name,
            )
            return getattr(task, field, None)

    if model is None:
        return []
    found: list[tuple[ListField, str | None, list[Any]]] = []
    for spec in model.list_fields:
        value = read(spec.name)
        if spec.is_map and isinstance(value, dict):
            found += [(spec, str(key), tasks) for key, tasks in value.items() if isinstance(tasks, list)]
        elif isinstance(value, list):
            found.append((spec, spec.label, value))
    return found


class TaskRegistry:
    """Task types by their short dotted name (``log``, ``http.request``...)."""

    def __init__(self) -> None:
        self._types: dict[str, type[Task]] = {}
        self.union: Any = None
        self._schemas: dict[str, dict] = {}

    def register(self, cls: type[Task]) -> type[Task]:
        name = cls.type_name()
        if name in self._types and self._types[name] is not cls:
            raise ValueError(f"task type '{name}' is registered twice")
        self._types[name] = cls
        self._schemas.clear()
        return cls

    def get(self, name: str | None) -> type[Task] | None:
        return self._types.get(name) if name else None

    def names(self) -> list[str]:
        return sorted(self._types)

    def models(self) -> list[type[Task]]:
        return [self._types[n] for n in self.names()]

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.6)
        return close[0] if close else None

    def finish(self, *dependants: type) -> None:
        """Build the task union from what is registered and resolve models that refer to it."""
        union = typing.Union[tuple(self.models())]  # noqa: UP007 - built at run time
        self.union = Annotated[union, Field(discriminator="type")]
        from engine.flows.triggers import trigger_types

        namespace = {"AnyTask": self.union, "AnyTrigger": trigger_types.union()}
        for model in (*self.models(), *dependants):
            model.model_rebuild(force=True, _types_namespace=namespace)
        self._schemas.clear()

    def json_schema(self, name: str) -> dict:
        """JSON Schema of one task type, with what the studio's palette needs under ``x-lanner``.

        Built once per type (a few milliseconds each): the editor asks for it on every edit."""
        if name not in self._schemas:
            self._schemas[name] = self._build_schema(name)
        return self._schemas[name]

    def _build_schema(self, name: str) -> dict:
        cls = self._types[name]
        schema = cls.model_json_schema(by_alias=True)
        if "$ref" in schema:  # recursive types (flowables) come back as a reference into $defs
            name_in_defs = schema.pop("$ref").rsplit("/", 1)[-1]
            schema = {**schema["$defs"][name_in_defs], "$defs": schema["$defs"]}
        # Each type redeclares ``type`` as its own literal, which drops the docstring given on Task.
        schema["properties"]["type"].setdefault("description", Task.model_fields["type"].description)
        if cls.examples:
            schema["examples"] = [{"id": "my_task", "type": name, **example} for example in cls.examples]
        schema["x-lanner"] = {
            "type": name,
            "title": cls.title or name,
            "summary": cls.summary,
            "group": cls.group.value,
            "icon": cls.icon,
            "runsOn": cls.runs_on,
            "taskLists": [f.name for f in cls.list_fields],
            "outputs": dict(cls.output_fields),
        }
        return schema

    def catalog(self) -> dict[str, dict]:
        return {name: self.json_schema(name) for name in self.names()}


registry = TaskRegistry()
