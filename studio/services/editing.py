"""Editing a flow's text from the canvas: the palette, a new task's defaults, the canvas graph of a text, the
text operations (``engine.flows.yaml_edit``) and where a dropped task goes. Pure: no database."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from engine.flows import yaml_edit
from engine.flows.graph import flow_graph
from engine.flows.loader import load_flow
from engine.flows.tree import task_ids, task_lists
from engine.flows.yaml_source import parse_yaml
from engine.tasks import registry
from engine.tasks.base import Group

_DEFAULTS: dict[str, dict[str, Any]] = {
    "log": {"message": "Hello from Lanner"},
    "return": {"value": "{{ execution.id }}"},
    "sleep": {"duration": "1s"},
    "fail": {"message": "Stopped on purpose"},
    "shell": {"commands": ["echo hello"]},
    "python": {"script": "print('hello')\n"},
    "node": {"script": "console.log('hello')\n"},
    "script": {"interpreter": ["bash"], "script": "echo hello\n"},
    "http.request": {"uri": "https://example.com"},
    "switch": {"value": "{{ inputs }}", "cases": {}},
    "if": {"condition": "{{ true }}"},
    "foreach": {"values": ["a", "b"]},
    "subflow": {"namespace": "company", "flowId": "other"},
    "pause": {"delay": "1m"},
    # Groups start with one fresh task of their own (_CHILD_LISTS), not their example's (whose ids could clash).
    "sequential": {},
    "parallel": {},
    "working-directory": {},
    "kv.set": {"key": "last_run", "value": "{{ execution.startDate }}"},
    "kv.get": {"key": "last_run"},
    "kv.delete": {"key": "last_run"},
    "sql.query": {"url": "{{ secret('DATABASE_URL') }}", "sql": "SELECT 1 AS one"},
    "notify.slack": {"url": "{{ secret('SLACK_WEBHOOK') }}", "text": "Flow {{ flow.id }} finished"},
    "notify.teams": {"url": "{{ secret('TEAMS_WEBHOOK') }}", "title": "Flow {{ flow.id }} finished"},
    "notify.discord": {"url": "{{ secret('DISCORD_WEBHOOK') }}", "content": "Flow {{ flow.id }} finished"},
    "notify.webhook": {"url": "{{ secret('WEBHOOK_URL') }}", "payload": {"flow": "{{ flow.id }}"}},
    "notify.email": {
        "host": "smtp.example.com",
        "from": "lanner@example.com",
        "to": ["team@example.com"],
        "subject": "Flow {{ flow.id }} finished",
        "body": "Execution {{ execution.id }} is done.",
    },
}
_CHILD_LISTS = {
    "sequential": "tasks",
    "parallel": "tasks",
    "foreach": "tasks",
    "if": "then",
    "working-directory": "tasks",
}


def palette() -> list[dict[str, str]]:
    """Every task type, in palette order: group, then title."""
    order = [g.value for g in Group]
    entries = [
        {
            "type": name,
            "title": meta["x-lanner"]["title"],
            "summary": meta["x-lanner"]["summary"],
            "group": meta["x-lanner"]["group"],
            "icon": meta["x-lanner"]["icon"],
        }
        for name, meta in registry.catalog().items()
    ]
    return sorted(entries, key=lambda e: (order.index(e["group"]), e["title"]))


def new_task(text: str, task_type: str) -> dict[str, Any]:
    """A task of ``task_type`` with an unused id and the properties it needs to be valid."""
    taken = set(re.findall(r"\bid:\s*['\"]?([A-Za-z0-9_-]+)", text))
    base = task_type.split(".")[-1].replace("-", "_")

    def fresh(prefix: str) -> str:
        number = 1
        while f"{prefix}_{number}" in taken:
            number += 1
        taken.add(f"{prefix}_{number}")
        return f"{prefix}_{number}"

    task: dict[str, Any] = {"id": fresh(base), "type": task_type}
    if task_type in _CHILD_LISTS:
        task[_CHILD_LISTS[task_type]] = [{"id": fresh("log"), "type": "log", "message": "inside"}]
    return {**task, **_starting_properties(text, task)}


def _starting_properties(text: str, task: dict[str, Any]) -> dict[str, Any]:
    """What a dropped task starts with so the flow stays valid (the canvas shows only a valid flow, and the form
    needs the node): the studio's own defaults, else the first of the type's examples that fits this flow once
    its expressions are adapted (``_fitted``), else its first example as it is."""
    if task["type"] in _DEFAULTS:
        return copy.deepcopy(_DEFAULTS[task["type"]])
    model = registry.get(task["type"])
    examples = list(model.examples) if model is not None else []
    if not examples:
        return {}
    current = load_flow(text, "flow.yml")  # not valid yet (no task at all, say): nothing to read from
    tasks = task_ids(current.flow) if current.ok else []
    inputs = {i.id for i in current.flow.inputs} if current.ok else set()
    for example in examples:
        fitted = _fitted(example, tasks[-1] if tasks else None, set(tasks), inputs)
        if load_flow(yaml_edit.insert_task(text, {**task, **fitted}), "flow.yml").ok:
            return fitted
    return copy.deepcopy(examples[0])


def _fitted(example: dict[str, Any], last: str | None, tasks: set[str], inputs: set[str]) -> dict[str, Any]:
    """An example's properties for this flow: outputs of a task the flow lacks read the last task's instead (a
    dropped transform reads the file of the query before it), and a property reading an input the flow does not
    declare is left out (an example's optional parameters)."""
    fitted = {}
    for name, value in copy.deepcopy(example).items():
        text = json.dumps(value)
        if any(found not in inputs for found in re.findall(r"\binputs\.(\w+)", text)):
            continue
        for missing in {found for found in re.findall(r"\boutputs\.(\w+)", text) if found not in tasks}:
            if last is None:
                break
            text = re.sub(rf"\boutputs\.{missing}\b", f"outputs.{last}", text)
        fitted[name] = json.loads(text)
    return fitted


def graph_of(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Canvas nodes and edges of a flow text, and its problems (line, column, message)."""
    result = load_flow(text, "flow.yml")
    problems = [p.as_dict() for p in result.problems]
    if not result.ok:
        return [], [], problems
    graph = flow_graph(result.flow)
    catalog = registry.catalog()
    titles = {name: meta["x-lanner"]["title"] for name, meta in catalog.items()}
    icons = {name: meta["x-lanner"]["icon"] for name, meta in catalog.items()}
    nodes = [
        {
            "id": n.id,
            "type": n.type,
            "title": titles.get(n.type, n.type),
            "icon": icons.get(n.type, "layers"),
            "kind": n.kind,
            "parent": n.parent or "",
            "state": "",
            "error": "",
        }
        for n in graph.nodes
    ]
    edges = [
        {"source": e.source, "target": e.target, "relation": e.relation, "label": e.label or ""} for e in graph.edges
    ]
    return nodes, edges, problems


def edit(text: str, operation: str, **arguments: Any) -> str:
    """Apply one of ``engine.flows.yaml_edit``'s operations (insert_task, connect, delete_task, ...)."""
    return getattr(yaml_edit, operation)(text, **arguments)


def raw_task(text: str, task_id: str) -> dict[str, Any] | None:
    """A task as written in the YAML (plain data), wherever it is nested; None if absent or unparsable."""
    data = parse_yaml(text).data
    if not isinstance(data, dict):
        return None
    return next(
        (t for found in task_lists(data) for t in found.tasks if isinstance(t, dict) and t.get("id") == task_id), None
    )


def drop_target(text: str, node_id: str) -> dict[str, Any]:
    """Where a task dropped on ``node_id`` goes: into that group's first list (or next to a plain task)."""
    if not node_id:
        return {}
    if node_id.startswith("$flow$"):
        return {"key": node_id.removeprefix("$flow$")}
    if "$" in node_id:
        owner, _, key = node_id.partition("$")
        return {"parent_id": owner, "key": key}
    raw = raw_task(text, node_id)
    model = registry.get(raw.get("type")) if raw else None
    if model is None or not model.list_fields:
        return {}
    spec = model.list_fields[0]
    if spec.is_map:
        cases = raw.get(spec.name) or {}
        if not cases:
            return {"parent_id": node_id, "key": "defaults"}
        return {"parent_id": node_id, "key": f"{spec.name}/{next(iter(cases))}"}
    return {"parent_id": node_id, "key": spec.name}
