"""Flowable tasks: they hold task lists, and the executor (not a worker) decides what they do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.core.durations import Duration
from engine.flows.inputs import Input
from engine.flows.spec import Computed, FlowId, NamespaceName
from engine.tasks.base import (
    ERRORS_FIELD,
    FINALLY_FIELD,
    FlowableTask,
    ListField,
    Task,
    registry,
)

if TYPE_CHECKING:
    AnyTask = Task

_CHILD_TASKS = Annotated[list["AnyTask"], Field(min_length=1)]
# The task lists of a group that has one list of its own: its tasks, then its errors and finally branches.
_GROUP_FIELDS = (ListField("tasks"), ERRORS_FIELD, FINALLY_FIELD)


@registry.register
class Sequential(FlowableTask):
    type: Literal["sequential"]
    tasks: _CHILD_TASKS
    """The tasks of the group, run in order."""

    title: ClassVar[str] = "Sequential group"
    summary: ClassVar[str] = "Run a group of tasks one after the other."
    icon: ClassVar[str] = "list-ordered"
    list_fields: ClassVar[tuple[ListField, ...]] = _GROUP_FIELDS
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "tasks": [
                {"id": "first", "type": "log", "message": "one"},
                {"id": "second", "type": "log", "message": "two"},
            ]
        },
    )


@registry.register
class Parallel(FlowableTask):
    type: Literal["parallel"]
    tasks: _CHILD_TASKS
    """The tasks of the group, all started at once."""
    concurrency: Computed[Annotated[int, Field(ge=0)]] = 0
    """Most tasks running at once; 0 means no limit."""

    title: ClassVar[str] = "Parallel group"
    summary: ClassVar[str] = "Run a group of tasks at the same time."
    icon: ClassVar[str] = "split"
    list_fields: ClassVar[tuple[ListField, ...]] = (
        ListField("tasks", parallel=True),
        ERRORS_FIELD,
        FINALLY_FIELD,
    )
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "concurrency": 2,
            "tasks": [
                {"id": "eu", "type": "log", "message": "Europe"},
                {"id": "us", "type": "log", "message": "America"},
            ],
        },
    )


@registry.register
class Switch(FlowableTask):
    type: Literal["switch"]
    value: Any
    """The value (usually an expression) that picks the branch."""
    cases: dict[str, list[AnyTask]] = Field(default_factory=dict)
    """One list of tasks per possible value; the one matching the value runs."""
    defaults: list[AnyTask] | None = None
    """Tasks run when no case matches the value."""

    title: ClassVar[str] = "Switch"
    summary: ClassVar[str] = "Choose one branch by the value of an expression."
    icon: ClassVar[str] = "git-branch"
    list_fields: ClassVar[tuple[ListField, ...]] = (
        ListField("cases", relation="branch", is_map=True),
        ListField("defaults", relation="branch", label="defaults"),
        ERRORS_FIELD,
        FINALLY_FIELD,
    )
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "value": "{{ inputs.region }}",
            "cases": {"eu": [{"id": "eu_report", "type": "log", "message": "Europe"}]},
            "defaults": [{"id": "other_report", "type": "log", "message": "Elsewhere"}],
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "case": "The case that ran (defaults when none matched).",
        "value": "The value the case was chosen by.",
    }


@registry.register
class If(FlowableTask):
    type: Literal["if"]
    condition: str
    """An expression, e.g. {{ inputs.amount > 100 }}; true runs 'then', false runs 'else'."""
    then: _CHILD_TASKS
    """Tasks run when the condition is true."""
    else_: Annotated[list[AnyTask] | None, Field(alias="else")] = None
    """Tasks run when the condition is false."""

    title: ClassVar[str] = "If"
    summary: ClassVar[str] = "Run one branch when a condition holds, another when it does not."
    icon: ClassVar[str] = "git-fork"
    list_fields: ClassVar[tuple[ListField, ...]] = (
        ListField("then", relation="branch", label="then"),
        ListField("else", relation="branch", label="else"),
        ERRORS_FIELD,
        FINALLY_FIELD,
    )
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "condition": "{{ inputs.amount > 100 }}",
            "then": [{"id": "big", "type": "log", "message": "A big order"}],
            "else": [{"id": "small", "type": "log", "message": "A small order"}],
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "condition": "True when the condition held (then ran), false otherwise (else ran)."
    }


@registry.register
class ForEach(FlowableTask):
    type: Literal["foreach"]
    values: list[Any] | str
    """A list, or an expression giving a list (JSON text is accepted)."""
    concurrency_limit: Computed[Annotated[int, Field(ge=0)]] = 1
    """Iterations at once; 0 means no limit."""
    tasks: _CHILD_TASKS
    """Tasks run for each value; they read it as taskrun.value."""

    title: ClassVar[str] = "For each"
    summary: ClassVar[str] = "Run a group of tasks once per value (taskrun.value, taskrun.iteration)."
    icon: ClassVar[str] = "repeat"
    list_fields: ClassVar[tuple[ListField, ...]] = _GROUP_FIELDS
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "values": ["eu", "us", "asia"],
            "concurrencyLimit": 2,
            "tasks": [{"id": "report", "type": "log", "message": "Region {{ taskrun.value }}"}],
        },
    )
    output_fields: ClassVar[dict[str, str]] = {"values": "The list of values iterated over."}


@registry.register
class Subflow(Task):
    type: Literal["subflow"]
    namespace: Computed[NamespaceName]
    """Namespace of the flow to start, e.g. acme.sales or {{ flow.namespace }}."""
    flow_id: Computed[FlowId]
    """Id of the flow to start."""
    inputs: dict[str, Any] = Field(default_factory=dict)
    """Input values given to the started flow."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels added to the started execution."""
    wait: Computed[bool] = True
    """Wait for the started flow to end (and get its outputs) before going on."""
    transmit_failed: Computed[bool] = True
    """Fail this task when the started flow fails (only when waiting)."""

    title: ClassVar[str] = "Subflow"
    summary: ClassVar[str] = "Start another flow, optionally wait for it and use its outputs."
    group: ClassVar = FlowableTask.group
    icon: ClassVar[str] = "workflow"
    runs_on: ClassVar[Literal["worker", "executor"]] = "executor"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"namespace": "acme.sales", "flowId": "daily_report", "inputs": {"day": "{{ inputs.day }}"}},
    )
    output_fields: ClassVar[dict[str, str]] = {
        "executionId": "The id of the started execution.",
        "state": "How the started flow ended (when waiting).",
        "outputs": "The started flow's outputs (when waiting): outputs.<id>.outputs.<name>.",
    }


@registry.register
class Pause(Task):
    type: Literal["pause"]
    delay: Computed[Duration] | None = None
    """Resume on its own after this delay; without it, someone must resume the execution."""
    on_resume: list[Input] = Field(default_factory=list)
    """Inputs asked for when resuming."""

    title: ClassVar[str] = "Pause"
    summary: ClassVar[str] = "Wait until someone resumes the execution, or for a delay."
    group: ClassVar = FlowableTask.group
    icon: ClassVar[str] = "circle-pause"
    runs_on: ClassVar[Literal["worker", "executor"]] = "executor"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"delay": "10m"},
        {"onResume": [{"id": "approved", "type": "BOOLEAN"}]},
    )
    output_fields: ClassVar[dict[str, str]] = {
        "resumeAt": "When a pause with a delay resumes on its own (ISO date and time).",
        "resumed": "The onResume answers given when resuming, by input id.",
    }
