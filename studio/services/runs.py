"""Running a flow from the editor: start, kill, follow its state, and keep a file sent for a FILE input.

Each action goes through ``engine.services.executions``, which decides access; the refusal is checked before
the Redis connection is needed, so a person refused gets that answer even where the studio has no Redis."""

from __future__ import annotations

from typing import Any

from engine.config import load_settings
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.services import executions as execution_service
from engine.services import task_tests
from engine.services.connections import connections, database
from engine.services.views import ExecutionView, TaskRunView
from engine.workspace import uploads
from studio.services.logs import log_row


def start_run(principal: Principal, namespace: str, flow_id: str, inputs: dict[str, Any]) -> str:
    """Start an execution; raises ``InputsInvalid`` naming each bad input."""
    authz.require_flow(principal, Action.RUN, namespace, flow_id)  # refused before Redis is needed
    given = {k: v for k, v in inputs.items() if v not in ("", None)}
    trigger = {"type": "studio", "actor": principal.name}  # the audit trail names the person (store._actor)
    return execution_service.start(connections(), principal, namespace, flow_id, inputs=given, trigger=trigger).id


def store_run_file(principal: Principal, namespace: str, flow_id: str, field: str, name: str, data: bytes) -> str:
    """A file chosen in the Run dialog for a FILE input; only someone who may run the flow may send one."""
    authz.require_flow(principal, Action.RUN, namespace, flow_id)
    return keep_input_file(namespace, flow_id, field, name, data)


def keep_input_file(namespace: str, flow_id: str, field: str, name: str, data: bytes) -> str:
    """Keep a file sent for a FILE input as the API keeps a multipart upload (the one place a FILE value may
    point to): its stored path, the input's value. The caller has checked who sends it."""
    folder = uploads.upload_folder(load_settings().home, namespace, flow_id)
    try:
        return uploads.save(folder, name, field, data)
    except uploads.UploadRefused:
        uploads.discard(folder)
        raise


def kill_run(principal: Principal, execution_id: str) -> None:
    execution_service.require(database(), principal, Action.KILL, execution_id)  # refused before Redis is needed
    execution_service.kill(connections(), principal, execution_id)


def run_status(principal: Principal, execution_id: str, after: int) -> dict[str, Any]:
    """The execution's state, each task's latest run (state, attempts, duration) and log lines after ``after``."""
    execution = with_waiting(execution_service.get(database(), principal, execution_id))
    lines = execution_service.read_log_lines(database(), execution_id, after=after, limit=500)
    tasks = {run.task_id: run_view(run) for run in execution.task_runs or []}  # the latest run of each task wins
    return {
        "state": execution.state,
        "error": execution.error or "",
        "waiting": waiting_text(execution),
        "outputs": execution.outputs,
        "tasks": tasks,
        "logs": [log_row(line) for line in lines],
    }


def with_waiting(execution: ExecutionView) -> ExecutionView:
    """The execution with why its task runs not started yet wait (a studio without Redis shows no reasons)."""
    if execution.ended or not load_settings().redis_url:
        return execution
    return execution_service.with_waiting(connections().redis, execution)


def waiting_text(execution: ExecutionView) -> str:
    """Why its task runs not started yet wait, one line per reason with the tasks it holds ('' when none do)."""
    tasks: dict[str, list[str]] = {}
    for run in execution.task_runs or []:
        if run.waiting:
            tasks.setdefault(run.waiting, []).append(run.task_id)
    return "\n".join(f"{', '.join(dict.fromkeys(ids))}: {reason}" for reason, ids in tasks.items())


def run_view(run: TaskRunView) -> dict[str, Any]:
    """A task run as the canvas and the outputs panels use it."""
    return {
        "state": run.state,
        "attempts": run.attempts,
        "duration_ms": run.duration_ms or 0,
        "error": run.error or "",
        "outputs": run.outputs or {},
        "metrics": run.metrics or [],
    }


def node_run_view(run: dict[str, Any] | None) -> dict[str, Any]:
    """What a canvas node shows of its task run, typed: state, error, duration (ms) and attempts (0 for none);
    the page states turn it into the node's texts (``studio.display.canvas_node``)."""
    if run is None:
        return {"state": "", "error": "", "duration_ms": 0, "attempts": 0}
    return {
        "state": run["state"],
        "error": run["error"],
        "duration_ms": run["duration_ms"] or 0,
        "attempts": run["attempts"],
    }


def start_task_test(
    principal: Principal,
    namespace: str,
    flow_id: str,
    task_id: str,
    *,
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    from_execution: str = "",
) -> str:
    """Run one task alone with the other tasks' outputs pinned (``outputs``, over those of ``from_execution``);
    returns the test execution's id. Only someone who may run the flow may; refused before Redis is needed."""
    authz.require_flow(principal, Action.RUN, namespace, flow_id)
    return task_tests.start_test(
        connections(),
        principal,
        namespace,
        flow_id,
        task_id,
        inputs=inputs,
        outputs=outputs,
        from_execution=from_execution or None,
        actor=principal.name,
    )


def task_test_sources(principal: Principal, namespace: str, flow_id: str) -> list[dict[str, Any]]:
    """The flow's latest executions (tests aside), newest first, whose task outputs a test may take."""
    return task_tests.recent_sources(database(), principal, namespace, flow_id)
