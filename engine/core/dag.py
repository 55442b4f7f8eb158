"""The ordering rule of a task list, as pure functions.

Within one list, a task without ``dependsOn`` waits for the task before it (or for nothing in a
parallel list); ``dependsOn: [a, b]`` waits for those tasks of the same list; ``dependsOn: []``
starts at the beginning of the list.
"""

from __future__ import annotations

from collections.abc import Sequence


def predecessors(entries: Sequence[tuple[str, list[str] | None]], parallel: bool = False) -> dict[str, list[str]]:
    """Map each task id of one list to the ids it waits for. ``entries`` are (id, dependsOn) in list order."""
    result: dict[str, list[str]] = {}
    previous: str | None = None
    for task_id, depends_on in entries:
        if depends_on is not None:
            result[task_id] = list(depends_on)
        elif previous is not None and not parallel:
            result[task_id] = [previous]
        else:
            result[task_id] = []
        previous = task_id
    return result


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle in ``graph`` (id -> ids it waits for) as a closed path ``[a, b, a]``, or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for root in graph:
        if colour[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                colour[node] = grey
                path.append(node)
            targets = [t for t in graph.get(node, []) if t in graph]
            if index < len(targets):
                stack.append((node, index + 1))
                target = targets[index]
                if colour[target] == grey:
                    return [*path[path.index(target) :], target]
                if colour[target] == white:
                    stack.append((target, 0))
            else:
                colour[node] = black
                path.pop()
    return None


def entry_ids(order: dict[str, list[str]]) -> list[str]:
    """Tasks of a list that wait for nothing."""
    return [task_id for task_id, waits in order.items() if not waits]


def exit_ids(order: dict[str, list[str]]) -> list[str]:
    """Tasks of a list that nothing else in the list waits for."""
    awaited = {dep for waits in order.values() for dep in waits}
    return [task_id for task_id in order if task_id not in awaited]
