"""What the services return: typed views of flows, executions and task runs, converted from store rows here only.

The API's response bodies are these views (``engine/api/schemas.py`` names them), with camelCase keys in JSON;
the studio's states fill from them; the CLI prints them, whether it read them locally or from a server's JSON
(``model_validate`` takes either key). None of them reads a store row itself.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from engine.core.states import TERMINAL, State
from engine.flows.triggers import FlowTrigger, ListenedTrigger, ScheduleTrigger, WebhookTrigger
from engine.runtime.trigger_health import TriggerHealth
from engine.store.flows import DeployResult, DeployStatus
from engine.store.tables import Execution, TaskRun

AnyTrigger = ScheduleTrigger | WebhookTrigger | FlowTrigger | ListenedTrigger
# A JSON object column: NULL (or a missing key) reads as {}, as the API has always sent it.
JsonObject = Annotated[dict[str, Any], BeforeValidator(lambda value: {} if value is None else value)]
JsonList = Annotated[list[dict[str, Any]], BeforeValidator(lambda value: [] if value is None else value)]


class View(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True, alias_generator=to_camel, populate_by_name=True)


def _fields(row: Any) -> Any:
    """Plain rows (engine/store's SimpleNamespace) as a dict: read from attributes, each camelCase alias is tried
    first and raises AttributeError."""
    return vars(row) if isinstance(row, SimpleNamespace) else row


class TaskRunView(View):
    id: str
    task_id: str
    parent_task_run_id: str | None = None
    iteration: int | None = None
    value: Any = None
    state: str
    attempts: int = Field(validation_alias=AliasChoices("attempts", "attempt_count"))  # a row's attempt_count
    outputs: JsonObject = Field(default_factory=dict)
    # counters and timers the script reported (engine.sdk counter/timer), of the last attempt
    metrics: JsonList = Field(default_factory=list)
    error: str | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_ms: int | None = None
    worker_group: str | None = None  # the group whose workers run it (None: any worker without a group)
    waiting: str | None = None  # why it has not started yet, when asked (engine/services/executions.with_waiting)


class AttemptView(View):
    task_run_id: str
    attempt: int
    state: str
    metrics: JsonList = Field(default_factory=list)  # what this attempt's script reported
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None


class LogLineView(View):
    id: int  # the line's position: read again "after" it to go on
    execution_id: str
    task_id: str | None = None
    task_run_id: str | None = None
    attempt: int | None = None
    level: str
    message: str
    timestamp: dt.datetime


class SlaBreachView(View):
    """An SLA of the flow the execution breached (engine/core/sla.py), as recorded when it happened."""

    id: str
    sla_id: str
    type: str  # maxDuration or assertion
    behavior: str  # fail, cancel or none
    labels: JsonObject = Field(default_factory=dict)
    at: dt.datetime
    reason: str


class ExecutionView(View):
    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state: str
    inputs: JsonObject = Field(default_factory=dict)
    outputs: JsonObject = Field(default_factory=dict)
    labels: JsonObject = Field(default_factory=dict)
    trigger: dict[str, Any] | None = None
    error: str | None = None
    parent_execution_id: str | None = None
    held: Annotated[bool, BeforeValidator(bool)] = False  # NULL in rows older than the column
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_ms: int | None = None
    # NULL in rows older than the column
    sla_breaches: Annotated[list[SlaBreachView], BeforeValidator(lambda value: value or [])] = Field(
        default_factory=list
    )
    task_runs: list[TaskRunView] | None = None  # None when not asked for (lists)

    @property
    def ended(self) -> bool:
        return State(self.state) in TERMINAL

    @classmethod
    def of(cls, row: Execution, runs: list[TaskRun] | None = None) -> ExecutionView:
        """The execution (a row, or anything with its fields) with ``runs``, its task runs, when given."""
        view = cls.model_validate(_fields(row))
        if runs is None:
            return view
        return view.model_copy(update={"task_runs": [TaskRunView.model_validate(_fields(r)) for r in runs]})


class ExecutionPageView(View):
    results: list[ExecutionView]
    total: int


class FlowView(View):
    namespace: str
    id: str = Field(validation_alias=AliasChoices("id", "flow_id"))  # a FlowRecord's flow_id
    revision: int
    description: str | None = None
    labels: JsonObject = Field(default_factory=dict)
    disabled: bool = False
    updated_at: dt.datetime
    updated_by: str | None = None
    source: str | None = None  # only when one flow is asked for

    @classmethod
    def of(cls, record: Any, *, with_source: bool = False) -> FlowView:
        """From a ``FlowRecord``; its source only ``with_source`` (one flow asked for, or an export)."""
        view = cls.model_validate(record)
        return view if with_source else view.model_copy(update={"source": None})


class RevisionView(View):
    revision: int
    created_at: dt.datetime
    author: str | None = None
    deleted: bool = False
    sha256: str = Field(validation_alias=AliasChoices("sha256", "source_sha256"))  # a FlowRevision's source_sha256


class DeployView(View):
    namespace: str
    id: str
    revision: int
    status: str  # created, updated, unchanged
    message: str  # what happened, in words

    @property
    def changed(self) -> bool:
        return self.status != DeployStatus.UNCHANGED

    @classmethod
    def of(cls, result: DeployResult) -> DeployView:
        return cls(
            namespace=result.namespace,
            id=result.flow_id,
            revision=result.revision,
            status=result.status.value,
            message=result.describe(),
        )


class ValidationView(View):
    valid: bool
    problems: list[dict[str, Any]]


class TriggerView(View):
    """A trigger a flow declares, with what the scheduler keeps about it."""

    namespace: str
    flow_id: str
    id: str
    type: str
    disabled_in_yaml: bool  # the trigger (or its whole flow) says ``disabled: true``
    enabled_by_person: bool  # the switch: ``lanner trigger enable|disable``, the API, the studio
    next_fire_at: dt.datetime | None = None
    last_fire_at: dt.datetime | None = None  # the schedule's last slot, as the scheduler records it
    last_execution_id: str | None = None
    last_fired_at: dt.datetime | None = None  # the newest recorded fire, of any kind (a flow trigger's too)
    last_fired_execution_id: str | None = None
    backfill: dict[str, Any] | None = None  # as shown: no encrypted values, SECRET inputs as ****
    inputs: list[str] = Field(default_factory=list)  # the flow's input ids
    secret_inputs: list[str] = Field(default_factory=list)
    declared: AnyTrigger = Field(exclude=True)  # the trigger as the flow declares it
    health: TriggerHealth | None = None  # a realtime trigger's listener: connected, counts, last error

    @property
    def enabled(self) -> bool:
        return self.enabled_by_person and not self.disabled_in_yaml


class BlueprintView(View):
    """A ready flow of the gallery; its YAML ``source`` only when one blueprint is asked for."""

    id: str
    title: str
    summary: str
    category: str
    tags: list[str] = Field(default_factory=list)
    secrets: list[str] = Field(default_factory=list)
    task_types: list[str] = Field(default_factory=list)
    source: str | None = None
