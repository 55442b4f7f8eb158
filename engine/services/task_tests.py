"""Testing one task of a flow without running the others (n8n's "execute step", Kestra's Playground).

A test is an execution of the flow's current revision marked ``test`` (kept out of the flow's history, charts and
flow triggers) whose snapshot holds the tested task alone (``engine/flows/single_task.py``). What that task reads of
other tasks (``outputs.<task>``) is pinned on the execution: taken from a previous execution of the flow (its task
runs' outputs), typed by the person, or both (what is typed wins, task by task). Its state, logs and outputs are an
execution's, read as any other.

Only someone who may run the flow may test its tasks; reading a previous execution's outputs needs reading it.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from engine.core.errors import InvalidInput
from engine.flows.single_task import TEST_TRIGGER
from engine.flows.tree import find_task
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.runtime import events
from engine.services.connections import Connections
from engine.services.execution_start import create_execution, flow_at
from engine.services.executions import TaskNotFound
from engine.store import executions as store
from engine.store import flows as flow_store
from engine.store.database import session_scope
from engine.store.tables import TaskRun

MAX_PINNED_TASKS = 500


def start_test(
    conn: Connections,
    principal: Principal,
    namespace: str,
    flow_id: str,
    task_id: str,
    *,
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    from_execution: str | None = None,
    actor: str | None = None,
) -> str:
    """Start a test of ``task_id``; returns the test execution's id.

    ``outputs``: other tasks' outputs by task id (``{"fetch": {"body": "..."}}``); ``from_execution``: a previous
    execution of this flow whose task runs' outputs are taken first. ``inputs``: the flow's inputs (those of
    ``from_execution`` when none are given, its SECRET ones aside). ``TaskNotFound`` for a task the flow does not
    have, ``InvalidInput`` for pinned outputs that are not an object of objects, ``InputsInvalid`` for bad inputs."""
    authz.require_flow(principal, Action.RUN, namespace, flow_id)  # refused before anything is read
    pinned = _checked_outputs(outputs)
    with session_scope(conn.db) as session:
        record = flow_store.get_flow(session, namespace, flow_id)
        flow = flow_at(session, namespace, flow_id, record.revision, record.source)
        try:
            find_task(flow, task_id)
        except LookupError as exc:
            raise TaskNotFound(str(exc).strip("'\"")) from None
        taken: dict[str, Any] = {}
        given = dict(inputs or {})
        if from_execution:
            source = authz.require_execution(session, principal, Action.READ, from_execution)
            if (source.namespace, source.flow_id) != (namespace, flow_id):
                raise InvalidInput(f"execution {from_execution} is not an execution of {namespace}/{flow_id}")
            taken = outputs_by_task(store.task_runs(session, from_execution))
            if not given:
                secret = {decl.id for decl in flow.inputs if decl.kind == "SECRET"}
                given = {k: v for k, v in (source.inputs or {}).items() if k not in secret}
        trigger = {
            "type": TEST_TRIGGER,
            "task": task_id,
            "actor": actor or principal.name,
            "outputs": {**{k: v for k, v in taken.items() if k != task_id}, **pinned},
            "fromExecution": from_execution,
        }
        execution = create_execution(
            session, namespace, flow_id, inputs=given, trigger=trigger, allow_disabled=True, test=True
        )
        execution_id = execution.id
    events.publish_event(conn.redis, execution_id)
    return execution_id


def outputs_by_task(runs: list[TaskRun]) -> dict[str, Any]:
    """The outputs an execution's task runs gave, by task id, as its expressions saw them: one run's outputs, or
    a foreach's iterations keyed by their value. Runs that gave nothing are left out."""
    by_task: dict[str, list[TaskRun]] = {}
    for run in runs:
        if run.outputs:
            by_task.setdefault(run.task_id, []).append(run)
    found: dict[str, Any] = {}
    for task_id, task_runs in by_task.items():
        if len(task_runs) == 1:
            found[task_id] = task_runs[0].outputs
        else:
            ordered = sorted(task_runs, key=lambda r: r.iteration or 0)
            found[task_id] = {str(r.value): r.outputs for r in ordered}
    return found


def _checked_outputs(outputs: Any) -> dict[str, Any]:
    if outputs is None:
        return {}
    if not isinstance(outputs, dict) or len(outputs) > MAX_PINNED_TASKS:
        raise InvalidInput('pinned outputs must be a JSON object of task ids, e.g. {"fetch": {"body": "..."}}')
    wrong = [str(key) for key, value in outputs.items() if not isinstance(value, dict)]
    if wrong:
        raise InvalidInput(f'the pinned outputs of {", ".join(wrong)} must be a JSON object, e.g. {{"body": "..."}}')
    return dict(outputs)


def recent_sources(
    db: Any, principal: Principal, namespace: str, flow_id: str, limit: int = 20
) -> list[dict[str, Any]]:
    """The flow's latest real executions, newest first, to take outputs from: id, state, created_at."""
    authz.require_flow(principal, Action.READ, namespace, flow_id)
    with Session(db) as session:
        rows = store.recent_executions(session, namespace, flow_id, limit)
    return [{"id": r.id, "state": r.state, "created_at": r.created_at} for r in rows]
