"""What the editor completes: names inside ``{{ }}`` in a form's text fields, and words in the YAML editor."""

from __future__ import annotations

from typing import Any

from engine.flows.tree import task_lists
from engine.flows.yaml_source import parse_yaml
from engine.tasks import registry

_FLOW_KEYS = (
    "id", "namespace", "description", "labels", "inputs", "variables", "tasks", "errors", "finally", "outputs",
    "triggers", "concurrency", "sla",
)  # fmt: skip
_RUN_NAMES = (
    "execution.id", "execution.startDate", "flow.id", "flow.namespace", "taskrun.value", "trigger.date", "error.taskId",
    "error.message",
)  # fmt: skip
_EXPRESSION_ROOTS = (
    "inputs.", "outputs.", "vars.", "execution.", "trigger.", "taskrun.value", "flow.", "secret('')", "kv('')",
)  # fmt: skip


def expression_names(text: str, task_outputs: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """What ``{{ }}`` completes (a form's text field, the YAML editor): the flow's inputs, variables, task outputs."""
    data = parse_yaml(text).data
    data = data if isinstance(data, dict) else {}
    names = [
        {"label": f"inputs.{i['id']}", "detail": f"input {i.get('type', '')}"}
        for i in data.get("inputs") or []
        if isinstance(i, dict) and i.get("id")
    ]
    names += [{"label": f"vars.{name}", "detail": "variable"} for name in data.get("variables") or {}]
    for found in task_lists(data):
        for task in found.tasks:
            if isinstance(task, dict) and task.get("id"):
                names += _task_output_names(task, (task_outputs or {}).get(task["id"]) or {})
    names += [{"label": label, "detail": "run"} for label in _RUN_NAMES]
    names.append({"label": "secret('NAME')", "detail": "secret"})
    names.append({"label": "kv('KEY')", "detail": "KV store"})
    return names


def _task_output_names(task: dict[str, Any], seen: dict[str, Any]) -> list[dict[str, str]]:
    """``outputs.<id>.<field>`` for what the task's type declares it gives (with what each holds), and for what a
    followed run's task gave besides (a script's own names, say)."""
    model = registry.get(task.get("type")) if isinstance(task.get("type"), str) else None
    declared = dict(model.output_fields) if model else {}
    if model is None and not seen:  # a type not known here: its outputs cannot be told, value is the usual one
        declared = {"value": ""}
    type_name = task.get("type")
    found = {key: declared.get(key, "") for key in sorted(seen)} | declared
    return [
        {"label": f"outputs.{task['id']}.{key}", "detail": f"output of {type_name}", "info": what}
        for key, what in found.items()
    ]


def completions() -> list[dict[str, str]]:
    """Words the YAML editor completes: task types, property names, expression roots."""
    words: dict[str, dict[str, str]] = {}
    for name, schema in registry.catalog().items():
        words[name] = {"label": name, "kind": "type", "detail": schema["x-lanner"]["title"]}
        for prop in schema["properties"]:
            words.setdefault(prop, {"label": prop, "kind": "property", "detail": "property"})
    for key in _FLOW_KEYS:
        words.setdefault(key, {"label": key, "kind": "keyword", "detail": "flow"})
    for root in _EXPRESSION_ROOTS:
        words[root] = {"label": root, "kind": "variable", "detail": "expression"}
    return sorted(words.values(), key=lambda w: w["label"])
