"""Request and response bodies of the API, as they appear in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from engine.services import views


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


# The response bodies are the services' views (engine/services/views.py), named for the OpenAPI document.


class FlowOut(views.FlowView):
    pass


class FlowPage(Body):
    results: list[FlowOut]
    total: int
    page: int
    size: int


class DeployOut(views.DeployView):
    pass


class RevisionOut(views.RevisionView):
    pass


class ValidationOut(Body):
    valid: bool
    problems: list[ProblemOut]


class GraphOut(Body):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


class ExecutionRequest(Body):
    inputs: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)


class TaskRunOut(views.TaskRunView):
    pass


class ExecutionOut(views.ExecutionView):
    held: bool = Field(default=False, exclude=True)  # the studio's; not part of the API's document
    task_runs: list[TaskRunOut] | None = None

    @classmethod
    def of_view(cls, view: views.ExecutionView) -> ExecutionOut:
        # From a dict of its fields: read from attributes, each camelCase alias is tried first and fails on the
        # view (about 250 exceptions for an execution of 40 task runs, 0.5 ms of a poll's answer).
        return cls.model_validate(view.model_dump())


class ExecutionPage(Body):
    results: list[ExecutionOut]
    total: int
    page: int
    size: int


class PurgeOut(Body):
    """What a purge deleted (with ``dryRun``: would delete)."""

    executions: int
    logs: int
    files: int
    dry_run: bool


class LogLineOut(views.LogLineView):
    pass


class NamespaceOut(Body):
    name: str
    flows: int
    executions: int


class ResumeRequest(Body):
    inputs: dict[str, Any] = Field(default_factory=dict)
