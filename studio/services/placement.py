"""Where a task added from the canvas or the palette goes when it follows another: into that task's list,
waiting for it (``dependsOn``), through ``engine.flows.yaml_edit`` so the rest of the text stays byte for byte."""

from __future__ import annotations

from typing import Any

from engine.flows import yaml_edit
from engine.flows.tree import task_lists
from engine.flows.yaml_edit import EditError
from engine.flows.yaml_source import parse_yaml


def insert_after(text: str, task: dict[str, Any], anchor_id: str) -> str:
    """``task`` added at the end of the list holding ``anchor_id``, waiting for it.

    At the end rather than right after it, so no task that waited for the one before it changes what it waits for.
    """
    data = parse_yaml(text).data
    for found in task_lists(data) if isinstance(data, dict) else []:
        if not any(isinstance(item, dict) and item.get("id") == anchor_id for item in found.tasks):
            continue
        path = found.path
        if found.owner is None:
            parent, key = None, str(path[0])
        elif len(path) >= 2 and isinstance(path[-2], str):  # a switch case: cases/<case>
            parent, key = found.owner.get("id"), f"{path[-2]}/{path[-1]}"
        else:
            parent, key = found.owner.get("id"), str(path[-1])
        following = {"id": task["id"], "type": task["type"], "dependsOn": [anchor_id]}
        following.update({k: v for k, v in task.items() if k not in following})
        return yaml_edit.insert_task(text, following, parent_id=parent, key=key)
    raise EditError(f"no task '{anchor_id}'")


def last_task(text: str) -> str:
    """The id of the flow's last top-level task ('' when it has none): what a task added without a selection
    follows."""
    data = parse_yaml(text).data
    tasks = data.get("tasks") if isinstance(data, dict) else None
    ids = [t.get("id") for t in tasks or [] if isinstance(t, dict) and isinstance(t.get("id"), str)]
    return ids[-1] if ids else ""
