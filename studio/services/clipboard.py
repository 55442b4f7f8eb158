"""Copy and paste of canvas nodes, within a flow and across flows: the clipboard holds the nodes' YAML (a list of
tasks, as a flow's ``tasks`` would hold them), so it can also be pasted into a YAML editor or from one.

Pasting inserts the tasks at the end of the flow's ``tasks`` through the byte-preserving edits
(``engine.flows.yaml_edit``): ids already taken get a suffix (``fetch`` -> ``fetch_2``), a ``dependsOn`` on a task
of the paste follows its new id, and one on a task that is not in the paste is dropped. Pure: no database."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from engine.flows import yaml_edit
from engine.flows.tree import walk
from engine.flows.yaml_source import parse_yaml

MARK = "# lanner tasks\n"  # the first line of what is copied: a paste knows the text is tasks


class NotTasks(ValueError):
    """The pasted text is not a list of tasks."""


def _ids(data: Any) -> list[str]:
    return [str(placed.task.get("id")) for placed in walk(data) if placed.task.get("id") is not None]


def copy_tasks(text: str, task_ids: list[str]) -> str:
    """The YAML of the tasks ``task_ids`` (with the tasks inside them) of the flow ``text``, in the flow's order; a
    task inside another copied one comes with it, not twice. "" when none of them is in the flow."""
    data = parse_yaml(text).data
    if not isinstance(data, dict):
        return ""
    wanted = set(task_ids)
    chosen: list[dict[str, Any]] = []
    inside: set[str] = set()
    for placed in walk(data):
        task_id = placed.task.get("id")
        if task_id in wanted and task_id not in inside:
            chosen.append(copy.deepcopy(placed.task))
            inside.update(_ids([placed.task]))
    if not chosen:
        return ""
    return MARK + yaml.safe_dump(chosen, sort_keys=False, allow_unicode=True, default_flow_style=False)


def pasted_tasks(clip: str) -> list[dict[str, Any]]:
    """The tasks a clipboard text holds (a list of tasks, one task, or a flow's ``tasks``); ``NotTasks`` otherwise."""
    parsed = parse_yaml(clip or "", "clipboard")
    data = parsed.data
    if parsed.problems or data is None:
        raise NotTasks("the clipboard holds no tasks (copy nodes with Ctrl+C first)")
    if isinstance(data, dict):
        data = data.get("tasks", [data])
    tasks_only = all(isinstance(t, dict) and "id" in t and "type" in t for t in data or [None])
    if not isinstance(data, list) or not tasks_only:
        raise NotTasks("the clipboard holds no tasks: a task needs an id and a type")
    return data


def paste_tasks(text: str, clip: str) -> tuple[str, list[str]]:
    """``text`` with the clipboard's tasks added at the end of its ``tasks``; and the new tasks' ids (top level)."""
    tasks = copy.deepcopy(pasted_tasks(clip))
    flow = parse_yaml(text).data
    taken = set(_ids(flow)) if isinstance(flow, dict) else set()
    renamed: dict[str, str] = {}
    for placed in walk(tasks):
        old = str(placed.task["id"])
        new = old
        number = 2
        while new in taken:
            new, number = f"{old}_{number}", number + 1
        taken.add(new)
        renamed[old] = placed.task["id"] = new
    for placed in walk(tasks):
        depends = placed.task.get("dependsOn")
        if isinstance(depends, list):
            kept = [renamed[d] for d in depends if d in renamed]
            if kept:
                placed.task["dependsOn"] = kept
            else:
                placed.task.pop("dependsOn")
    for task in tasks:
        text = yaml_edit.insert_task(text, task)
    return text, [task["id"] for task in tasks]
