"""The flow a test of one task runs (the editor's "Test task", Kestra's Playground, n8n's "execute step").

A test execution is an execution of the real flow revision (its inputs, variables, namespace and access), whose
snapshot swaps the flow for this one: the tested task alone, lifted to the top wherever it is nested, without its
``dependsOn``, and without the flow's error and finally handlers, outputs, triggers, concurrency limit and SLAs (a
test of one task is not a run of the flow: it promises nothing). What the
task reads of other tasks (``outputs.<task>``) comes from the outputs pinned on the execution
(``engine.core.snapshot.Snapshot.pinned_outputs``), so nothing else runs.
"""

from __future__ import annotations

from typing import Any

from engine.flows.model import Flow
from engine.flows.tree import find_task

TEST_TRIGGER = "test"  # the ``trigger.type`` of a test execution


def single_task_flow(flow: Flow, task_id: str) -> Flow:
    """``flow`` reduced to the task ``task_id``; LookupError when the flow has no such task."""
    task = find_task(flow, task_id)
    alone = task.model_copy(update={"depends_on": None})
    reduced = flow.model_copy(
        update={
            "tasks": [alone],
            "errors": [],
            "finally_": [],
            "outputs": [],
            "triggers": [],
            "concurrency": None,
            "sla": [],
        }
    )
    # What is worked out once per parsed flow is worked out again for the one task (a copy would share ``flow``'s).
    reduced._reads, reduced._tasks_by_id, reduced._orders = {}, None, {}
    return reduced


def tested_task(trigger: dict[str, Any] | None) -> str | None:
    """The task a test execution tests (from its trigger), None for any other execution."""
    trigger = trigger or {}
    return str(trigger.get("task")) if trigger.get("type") == TEST_TRIGGER and trigger.get("task") else None


def pinned_outputs(trigger: dict[str, Any] | None) -> dict[str, Any]:
    """The outputs of other tasks a test execution is given, by task id."""
    given = (trigger or {}).get("outputs") if tested_task(trigger) else None
    return dict(given) if isinstance(given, dict) else {}
