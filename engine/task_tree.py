"""Walking a flow's task tree: every task, including those nested in flowable tasks and errors/finally lists.

Pure (no I/O, no worker): the API, the studio and the commands find tasks here without loading the RQ worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.flow import Flow
from engine.tasks import Task, child_lists


def walk(tasks: list[Any]) -> Iterator[Any]:
    """Each task of ``tasks`` and then its descendants, depth first, in the order they are written."""
    for task in tasks:
        yield task
        for _, _, children in child_lists(task):
            yield from walk(children)


def all_tasks(flow: Flow) -> list[Any]:
    """Every task of the flow: its tasks, then its errors and finally lists, each with its descendants."""
    return list(walk([*flow.tasks, *flow.errors, *flow.finally_]))


def descendant_ids(tasks: list[Any]) -> set[str]:
    """The ids of ``tasks`` and of every task nested in them."""
    return {task.id for task in walk(tasks)}


def find_task(flow: Flow, task_id: str) -> Task:
    """The task ``task_id`` anywhere in the flow; ``LookupError`` naming the flow when there is none."""
    for task in walk([*flow.tasks, *flow.errors, *flow.finally_]):
        if task.id == task_id:
            return task
    raise LookupError(f"task '{task_id}' is not in flow {flow.namespace}/{flow.id}")
