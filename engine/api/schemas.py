"""Request and response bodies of the API, as they appear in the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ErrorBody(Body):
    message: str
    problems: list[dict[str, Any]] | None = None
    inputs: dict[str, str] | None = None
    errors: list[dict[str, Any]] | None = None


ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 422, 429)}


class ProblemOut(Body):
    line: int
    column: int
    message: str
    path: str
    file: str


class FlowOut(Body):
    namespace: str
    id: str
    revision: int
    description: str | None = None
    labels: dict[str, Any] = Field(default_factory=dict)
    disabled: bool = False
    updated_at: dt.datetime
    updated_by: str | None = None
    source: str | None = None


class FlowPage(Body):
    results: list[FlowOut]
    total: int
    page: int
    size: int


class DeployOut(Body):
    namespace: str
    id: str
    revision: int
    status: str
    message: str


class RevisionOut(Body):
    revision: int
    created_at: dt.datetime
    author: str | None = None
    deleted: bool = False
    sha256: str


class ValidationOut(Body):
    valid: bool
    problems: list[ProblemOut]


class GraphOut(Body):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


class ExecutionRequest(Body):
    inputs: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)


class TaskRunOut(Body):
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


class ExecutionOut(Body):
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
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_ms: int | None = None
    task_runs: list[TaskRunOut] | None = None


class ExecutionPage(Body):
    results: list[ExecutionOut]
    total: int
    page: int
    size: int


class LogLineOut(Body):
    id: int
    execution_id: str
    task_id: str | None = None
    task_run_id: str | None = None
    attempt: int | None = None
    level: str
    message: str
    timestamp: dt.datetime


class NamespaceOut(Body):
    name: str
    flows: int
    executions: int


class ResumeRequest(Body):
    inputs: dict[str, Any] = Field(default_factory=dict)
