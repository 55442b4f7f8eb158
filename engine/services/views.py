"""What the services return: typed views of flows, executions and task runs, converted from store rows here only.

The API's response bodies are these views (``engine/api/schemas.py`` names them), with camelCase keys in JSON;
the studio's states fill from them; the CLI prints them, whether it read them locally or from a server's JSON
(``model_validate`` takes either key). None of them reads a store row itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from engine.core.states import TERMINAL, State
from engine.flows.triggers import FlowTrigger, ScheduleTrigger, WebhookTrigger
from engine.store.flows import DeployResult, DeployStatus
from engine.store.tables import Execution, FlowRevision, TaskRun, TaskRunAttempt

AnyTrigger = ScheduleTrigger | WebhookTrigger | FlowTrigger


class View(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True, alias_generator=to_camel, populate_by_name=True)


class TaskRunView(View):
    id: str
    task_id: str
    parent_task_run_id: str | None = None
    iteration: int | None = None
    value: Any = None
    state: str
    attempts: int
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_ms: int | None = None

    @classmethod
    def of(cls, run: TaskRun) -> TaskRunView:
        return cls(
            id=run.id,
            task_id=run.task_id,
            parent_task_run_id=run.parent_task_run_id,
            iteration=run.iteration,
            value=run.value,
            state=run.state,
            attempts=run.attempt_count,
            outputs=run.outputs or {},
            error=run.error,
            started_at=run.started_at,
            ended_at=run.ended_at,
            duration_ms=run.duration_ms,
        )


class AttemptView(View):
    task_run_id: str
    attempt: int
    state: str
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None

    @classmethod
    def of(cls, row: TaskRunAttempt) -> AttemptView:
        return cls(
            task_run_id=row.task_run_id,
            attempt=row.attempt,
            state=row.state,
            started_at=row.started_at,
            ended_at=row.ended_at,
        )


class LogLineView(View):
    id: int  # the line's position: read again "after" it to go on
    execution_id: str
    task_id: str | None = None
    task_run_id: str | None = None
    attempt: int | None = None
    level: str
    message: str
    timestamp: dt.datetime


class ExecutionView(View):
    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, Any] = Field(default_factory=dict)
    trigger: dict[str, Any] | None = None
    error: str | None = None
    parent_execution_id: str | None = None
    held: bool = False
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_ms: int | None = None
    task_runs: list[TaskRunView] | None = None  # None when not asked for (lists)

    @property
    def ended(self) -> bool:
        return State(self.state) in TERMINAL

    @classmethod
    def of(cls, row: Execution, runs: list[TaskRun] | None = None) -> ExecutionView:
        return cls(
            id=row.id,
            namespace=row.namespace,
            flow_id=row.flow_id,
            flow_revision=row.flow_revision,
            state=row.state,
            inputs=row.inputs or {},
            outputs=row.outputs or {},
            labels=row.labels or {},
            trigger=row.trigger,
            error=row.error,
            parent_execution_id=row.parent_execution_id,
            held=bool(row.held),
            created_at=row.created_at,
            started_at=row.started_at,
            ended_at=row.ended_at,
            duration_ms=row.duration_ms,
            task_runs=None if runs is None else [TaskRunView.of(r) for r in runs],
        )


class ExecutionPageView(View):
    results: list[ExecutionView]
    total: int


class FlowView(View):
    namespace: str
    id: str
    revision: int
    description: str | None = None
    labels: dict[str, Any] = Field(default_factory=dict)
    disabled: bool = False
    updated_at: dt.datetime
    updated_by: str | None = None
    source: str | None = None  # only when one flow is asked for

    @classmethod
    def of(cls, record: Any, *, with_source: bool = False) -> FlowView:
        return cls(
            namespace=record.namespace,
            id=record.flow_id,
            revision=record.revision,
            description=record.description,
            labels=record.labels or {},
            disabled=record.disabled,
            updated_at=record.updated_at,
            updated_by=record.updated_by,
            source=record.source if with_source else None,
        )


class RevisionView(View):
    revision: int
    created_at: dt.datetime
    author: str | None = None
    deleted: bool = False
    sha256: str

    @classmethod
    def of(cls, row: FlowRevision) -> RevisionView:
        return cls(
            revision=row.revision,
            created_at=row.created_at,
            author=row.author,
            deleted=row.deleted,
            sha256=row.source_sha256,
        )


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

    @property
    def enabled(self) -> bool:
        return self.enabled_by_person and not self.disabled_in_yaml
