"""The editor's forms: a task's properties, the flow-level settings, and the run form's inputs, each read from
and written into the flow's text (widgets and values: ``studio.forms``). Pure: no database."""

from __future__ import annotations

import copy
import json
from typing import Any

from engine.flows import yaml_edit, yaml_refactor
from engine.flows.loader import load_flow
from engine.flows.yaml_source import parse_yaml
from engine.tasks import registry
from studio import forms
from studio.services.editing import raw_task


def task_form(text: str, task_id: str) -> list[dict[str, Any]]:
    """The form of one task: a widget per property (see ``studio.forms``) holding its current value."""
    raw = raw_task(text, task_id)
    if raw is None or registry.get(raw.get("type")) is None:
        return []
    fields = [forms.id_field(str(raw.get("id", ""))), *forms.task_fields(registry.json_schema(raw["type"]), raw)]
    defaulted = _flow_defaulted(text, raw)
    for field in fields:  # shown as a hint, never as the task's own value (the YAML stays as written)
        if field["name"] in defaulted and not field["text"]:
            field["placeholder"] = f"from taskDefaults: {forms._as_text(defaulted[field['name']])}"[:200]
    return fields


def _flow_defaulted(text: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The properties the flow's ``taskDefaults`` give this task that it does not set itself."""
    from engine.flows.task_defaults import apply_defaults

    data = parse_yaml(text).data
    defaults = data.get("taskDefaults") if isinstance(data, dict) else None
    if not isinstance(defaults, list):
        return {}
    applied = copy.deepcopy(raw)
    apply_defaults(applied, [((), d) for d in defaults if isinstance(d, dict)])
    return {key: value for key, value in applied.items() if key not in raw}


def flow_form(text: str) -> list[dict[str, Any]]:
    """The flow-level settings form (id, namespace, description, labels, inputs, variables, triggers...)."""
    data = parse_yaml(text).data
    return forms.flow_fields(data) if isinstance(data, dict) else []


def set_flow_setting(text: str, name: str, value: Any) -> str:
    """Write one flow-level setting; ``concurrency.limit`` and its siblings write the ``concurrency`` map."""
    if "." not in name:
        return yaml_edit.set_flow_property(text, name, value)
    key, _, part = name.partition(".")
    data = parse_yaml(text).data
    current = data.get(key) if isinstance(data, dict) and isinstance(data.get(key), dict) else {}
    merged = {**current, part: value} if value is not None else {k: v for k, v in current.items() if k != part}
    if key == "concurrency" and "limit" not in merged:
        merged = {}  # a behaviour without a limit means nothing
    return yaml_edit.set_flow_property(text, key, merged or None)


def rename_task(text: str, old_id: str, new_id: str) -> str:
    """Rename a task and every reference to it; ``yaml_edit.EditError`` names what is wrong with ``new_id``."""
    return yaml_refactor.rename_task(text, old_id, new_id.strip())


def set_flow_records(text: str, name: str, rows: list[dict[str, Any]] | None) -> str:
    """Write the inputs or triggers a records widget reports, entry by entry: a row the person did not touch is
    written back exactly as the YAML had it (its comments and layout stay), a changed one as the form cleans it."""
    data = parse_yaml(text).data
    current = data.get(name) if isinstance(data, dict) and isinstance(data.get(name), list) else []
    cleaned = forms.value_of("records", rows, name) or []
    kept = [row for row in rows or [] if str(row.get("id", "")).strip()]
    items = []
    for index, (row, clean) in enumerate(zip(kept, cleaned, strict=True)):
        before = current[index] if index < len(current) else None
        if isinstance(before, dict) and row == before:
            items.append(before)
        elif isinstance(before, dict):  # keys the person left alone keep their written value (required: true...)
            items.append({**clean, **{k: v for k, v in before.items() if k in row and row[k] == v}})
        else:
            items.append(clean)
    return yaml_refactor.set_flow_list(text, name, items)


def form_value(kind: str, value: Any, name: str = "") -> Any:
    """A form widget's value as written into the YAML (raises ``forms.FieldError`` naming the field)."""
    return forms.value_of(kind, value, name)


# The widget of each input type; the browser then only lets through what the type can hold.
_INPUT_WIDGETS = {
    "INT": "integer", "FLOAT": "number", "BOOLEAN": "switch", "SELECT": "select", "MULTISELECT": "checkboxes",
    "DATE": "date", "DATETIME": "datetime-local", "JSON": "json", "SECRET": "password", "DURATION": "duration",
    "FILE": "file",
}  # fmt: skip


def flow_inputs(text: str) -> list[dict[str, str]]:
    """The inputs a run form asks for: id, type, whether required, default."""
    result = load_flow(text, "flow.yml")
    if not result.ok:
        return []
    return [
        {
            "id": i.id,
            "type": i.kind,
            "widget": _INPUT_WIDGETS.get(i.kind, "text"),
            "options": list(getattr(i, "values", None) or []),
            "required": i.required and i.defaults is None,
            "default": _input_default(i.defaults),
            "description": i.description or i.display_name or "",
        }
        for i in result.flow.inputs
    ]


def _input_default(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)
