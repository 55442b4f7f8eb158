"""Walking a flow's task tree: its task lists (``tasks``, ``errors``, ``finally``) and, inside flowable tasks,
theirs (a sequence's or parallel's ``tasks``, an if's ``then``/``else``, a switch's ``cases``, a task's own
``errors``/``finally``), to any depth.

The one walker every part uses (checks, commands, the worker, the studio). It reads a loaded ``Flow``, a
flow's raw YAML data (a dict: items that are not mappings are passed over, as the checks report them) or a
plain list of tasks. ``engine/flows/graph.py`` and ``engine/core/progress.py`` follow the same lists through
``child_lists`` but build a nested shape (groups, scopes) rather than walk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from engine.flows.yaml_source import Path  # keys and list indexes from the top, e.g. ("tasks", 0, "then", 1)
from engine.tasks.base import child_lists

# The flow's own lists: (name in YAML, attribute of the Flow model, relation to the main list).
_FLOW_LISTS = (("tasks", "tasks", "sequence"), ("errors", "errors", "error"), ("finally", "finally_", "finally"))


@dataclass(frozen=True)
class TaskList:
    """One list of tasks and where it is."""

    path: Path  # e.g. ("tasks",), ("tasks", 2, "cases", "eu") for a switch case
    tasks: list[Any]
    parallel: bool  # its tasks start together unless they say what they depend on
    relation: str  # "sequence", "branch", "error" or "finally" (see engine.tasks.base.ListField)
    owner: Any | None = None  # the task holding it; None for the flow's own lists


class Placed(NamedTuple):
    task: Any
    index: int  # its position in ``within.tasks``
    within: TaskList


def _is_task(item: Any) -> bool:
    return isinstance(item, dict) or hasattr(type(item), "list_fields")


def _top_lists(flow_or_tasks: Any) -> list[TaskList]:
    if isinstance(flow_or_tasks, list):
        return [TaskList((), flow_or_tasks, False, "sequence")]
    found = []
    for name, attribute, relation in _FLOW_LISTS:
        tasks = flow_or_tasks.get(name) if isinstance(flow_or_tasks, dict) else getattr(flow_or_tasks, attribute)
        if isinstance(tasks, list):
            found.append(TaskList((name,), tasks, False, relation))
    return found


def _inner_lists(task: Any, path: Path) -> list[TaskList]:
    return [
        TaskList((*path, spec.name) + ((label,) if spec.is_map else ()), tasks, spec.parallel, spec.relation, task)
        for spec, label, tasks in child_lists(task)
    ]


def task_lists(flow_or_tasks: Any) -> Iterator[TaskList]:
    """Every task list, outermost first (all the flow's lists, then the lists one level in, and so on)."""
    pending = _top_lists(flow_or_tasks)
    while pending:
        current = pending.pop(0)
        yield current
        for index, task in enumerate(current.tasks):
            if _is_task(task):
                pending += _inner_lists(task, (*current.path, index))


def walk(flow_or_tasks: Any) -> Iterator[Placed]:
    """Every task in the order it is written: a task, then the tasks inside it, then the task after it."""

    def within(task_list: TaskList) -> Iterator[Placed]:
        for index, task in enumerate(task_list.tasks):
            if _is_task(task):
                yield Placed(task, index, task_list)
                for inner in _inner_lists(task, (*task_list.path, index)):
                    yield from within(inner)

    for top in _top_lists(flow_or_tasks):
        yield from within(top)


def task_ids(flow_or_tasks: Any) -> list[str]:
    """The ids of every task, in the order they are written."""
    return [placed.task.id for placed in walk(flow_or_tasks)]


def handler_task_ids(flow_or_tasks: Any) -> set[str]:
    """The ids of the tasks inside any ``errors`` or ``finally`` list, at any depth."""
    handlers = [found for found in task_lists(flow_or_tasks) if found.relation in ("error", "finally")]
    return {placed.task.id for found in handlers for placed in walk(found.tasks)}


def find_task(flow: Any, task_id: str) -> Any:
    """The task ``task_id`` of a loaded flow, wherever it is nested; LookupError when the flow has none.

    A parsed flow never changes, so its tasks are indexed by id on the first lookup: every advance and every task
    run looks tasks up, and walking a flow of thousands of tasks each time would cost as much as the rest."""
    index = flow._tasks_by_id
    if index is None:
        index = {}
        for placed in walk(flow):
            index.setdefault(placed.task.id, placed.task)  # the first written wins, as the walk found it
        flow._tasks_by_id = index
    try:
        return index[task_id]
    except KeyError:
        raise LookupError(f"task '{task_id}' is not in flow {flow.namespace}/{flow.id}") from None
