"""A task type's documentation, generated from its JSON schema: what it does, its properties, examples and outputs.

The editor's "Docs" section shows it beside the selected task's form (``studio/components/task_docs.py``); everything
comes from the task model (docstrings of its fields, its ``examples`` and ``output_fields``), so it cannot drift."""

from __future__ import annotations

import json
from typing import Any

import yaml

from engine.flows.tree import task_lists
from engine.tasks import registry

_COMMON = {  # what every task accepts (engine.tasks.base.Task): listed after a type's own properties
    "id", "type", "description", "dependsOn", "retry", "timeout", "disabled", "allowFailure", "runIf", "logLevel",
}  # fmt: skip
_JSON_NAMES = {"string": "text", "integer": "integer", "number": "number", "boolean": "true/false", "null": "null"}


def type_text(spec: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> str:
    """A property's type in words a reader knows: ``text``, ``list of text``, ``one of GET, POST``, ``duration``."""
    if depth > 4:
        return "value"
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        target = defs.get(name, {})
        if "enum" in target or (target.get("type") and "properties" not in target):
            return type_text(target, defs, depth + 1)
        return name
    if "enum" in spec:
        return "one of " + ", ".join(str(v) for v in spec["enum"])
    if "const" in spec:
        return json.dumps(spec["const"])
    alternatives = spec.get("anyOf") or spec.get("oneOf")
    if alternatives:
        shown = [type_text(o, defs, depth + 1) for o in alternatives if o.get("type") != "null"]
        return " or ".join(dict.fromkeys(shown)) or "null"
    if spec.get("format") == "duration":
        return "duration"
    kind = spec.get("type")
    if kind == "array":
        return "list of " + type_text(spec.get("items", {}), defs, depth + 1)
    if kind == "object":
        extra = spec.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return "map of " + type_text(extra, defs, depth + 1)
        return "map"
    return _JSON_NAMES.get(kind, "value") if isinstance(kind, str) else "value"


def _default_text(spec: dict[str, Any]) -> str:
    if "default" not in spec or spec["default"] is None:
        return ""
    default = spec["default"]
    if default in ([], {}):
        return ""
    return default if isinstance(default, str) else json.dumps(default)


def example_yaml(example: dict[str, Any]) -> str:
    """One example as a task written in a flow's ``tasks:`` list."""
    text = yaml.safe_dump([example], sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return text.rstrip("\n")


def task_doc(type_name: str) -> dict[str, Any]:
    """The documentation of one task type; ``LookupError`` when no such type is registered."""
    if registry.get(type_name) is None:
        suggestion = registry.suggest(type_name)
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        raise LookupError(f"no task type '{type_name}'{hint}")
    schema = registry.json_schema(type_name)
    meta = schema["x-lanner"]
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    held_lists = set(meta.get("taskLists", []))
    properties = []
    for name, spec in schema["properties"].items():
        if name == "type":
            continue
        properties.append(
            {
                "name": name,
                "type": "list of tasks" if name in held_lists else type_text(spec, defs),
                "default": _default_text(spec),
                "description": spec.get("description", ""),
                "required": name in required,
                "common": name in _COMMON,
            }
        )
    # What is particular to this type first (required ones leading), then what every task accepts.
    properties.sort(key=lambda p: (p["common"], not p["required"]))
    return {
        "type": type_name,
        "title": meta["title"],
        "summary": meta["summary"],
        "description": schema.get("description", ""),
        "group": meta["group"],
        "properties": properties,
        "examples": [example_yaml(example) for example in schema.get("examples", [])],
        "outputs": [{"name": name, "description": what} for name, what in meta.get("outputs", {}).items()],
    }


def task_type_of(data: Any, task_id: str) -> str:
    """The type of the task ``task_id`` in a parsed flow (searched in every task list), or ``""``."""
    if not isinstance(data, dict) or not task_id:
        return ""
    for found in task_lists(data):
        for task in found.tasks:
            if isinstance(task, dict) and task.get("id") == task_id and isinstance(task.get("type"), str):
                return task["type"]
    return ""
