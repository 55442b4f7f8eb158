"""Actions on flows beside saving them: test one task, export a namespace's flows as a zip, restore a deleted flow."""

from __future__ import annotations

import getpass
from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from engine.api.deps import Caller, actor, connections
from engine.api.schemas import ERRORS, Body, DeployOut, ExecutionOut
from engine.services import executions, flow_actions, task_tests

router = APIRouter(tags=["flows"])


class TaskTestRequest(Body):
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)  # other tasks' outputs, by task id
    from_execution: str | None = Field(default=None, max_length=36)  # a previous execution to take outputs from


@router.post(
    "/flows/{namespace}/{flow_id}/tasks/{task_id}/test", response_model=ExecutionOut, status_code=201, responses=ERRORS
)
def test_task(caller: Caller, namespace: str, flow_id: str, task_id: str, body: TaskTestRequest) -> ExecutionOut:
    """Run ``task_id`` alone, with the other tasks' outputs pinned (typed, or taken from ``fromExecution``); the
    test execution is left out of the flow's history and charts."""
    execution_id = task_tests.start_test(
        connections(),
        caller,
        namespace,
        flow_id,
        task_id,
        inputs=body.inputs,
        outputs=body.outputs,
        from_execution=body.from_execution,
        actor=actor(caller),
    )
    return ExecutionOut.of_view(executions.read(connections().db, execution_id))


@router.get(
    "/namespaces/{namespace}/flows.zip",
    responses={**ERRORS, 200: {"content": {"application/zip": {}}}},
    response_class=Response,
)
def export_namespace(caller: Caller, namespace: str) -> Response:
    """Every flow of the namespace (and those below it) the caller may read, one YAML file each, byte for byte."""
    data = flow_actions.namespace_zip(connections().db, caller, namespace)
    filename = flow_actions.zip_name(namespace)
    return Response(
        data, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.post("/flows/{namespace}/{flow_id}/restore", response_model=DeployOut, responses=ERRORS)
def restore_flow(caller: Caller, namespace: str, flow_id: str) -> DeployOut:
    """Bring a deleted flow back with the source it had when it was deleted (a new revision)."""
    restored = flow_actions.restore(
        connections().db, caller, namespace, flow_id, author=actor(caller, getpass.getuser())
    )
    return DeployOut.model_validate(restored, from_attributes=True)
