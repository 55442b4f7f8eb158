"""Forms generated from JSON Schemas: which widget each property gets, and how its value returns to YAML.

Pure functions on plain data (a task type's JSON Schema, a task or flow as written); no engine I/O.
A field is a dict: ``name``, ``label``, ``kind``, ``language``, ``options``, ``value``, ``text``,
``required``, ``help``, ``placeholder``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import yaml

import engine.tasks  # noqa: F401 - registers the trigger types
from engine.flows.triggers import trigger_types

INPUT_TYPES = [
    "STRING",
    "INT",
    "FLOAT",
    "BOOLEAN",
    "SELECT",
    "MULTISELECT",
    "DATE",
    "DATETIME",
    "DURATION",
    "JSON",
    "SECRET",
    "FILE",
]
# The built-in ones first, then those registered beside their tasks (realtime, polling); their settings (url,
# queue, sql...) are written in the YAML.
TRIGGER_TYPES = trigger_types.names()
SLA_TYPES = ["maxDuration", "assertion"]
SLA_BEHAVIORS = ["fail", "cancel", "none"]
_COMMON = {"description", "timeout", "disabled", "allowFailure", "runIf", "logLevel", "retry", "dependsOn"}


@dataclass
class FormField:
    """One property as the editor's form shows it: ``kind`` picks the widget (see ``widget_of``)."""

    name: str
    label: str
    kind: str
    language: str
    options: list[str]
    value: Any  # a bool for a switch, the data for map/list/records, else the text
    text: str
    required: bool
    help: str
    placeholder: str
    columns: list[dict[str, Any]]  # a records field's columns: the JSX widget reads them as they are


_PLACEHOLDERS = {"duration": "30s, 5m, 1h30m or PT2M", "yaml": "YAML, e.g. {type: constant, interval: 30s}"}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=None).rstrip("\n")
    return str(value)


def _field(
    name: str,
    kind: str,
    value: Any,
    *,
    label: str = "",
    language: str = "",
    options: list[str] | None = None,
    required: bool = False,
    help_text: str = "",
) -> dict[str, Any]:
    if kind == "lines":
        text = "\n".join(str(v) for v in value) if isinstance(value, list) else _as_text(value)
    else:
        text = _as_text(value)
    return {
        "name": name,
        "label": label or name,
        "kind": kind,
        "language": language,
        "options": options or [],
        "value": bool(value) if kind == "switch" else value if kind in ("map", "list", "records") else text,
        "text": text,
        "required": required,
        "help": help_text,
        "placeholder": _PLACEHOLDERS.get(kind, ""),
        "columns": RECORD_COLUMNS.get(name, []),
    }


def _resolve(spec: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The one meaningful alternative of a property (``X | None`` is X); a union stays as it is."""
    if "$ref" in spec:
        return {**defs.get(spec["$ref"].rsplit("/", 1)[-1], {}), **{k: v for k, v in spec.items() if k != "$ref"}}
    options = [o for o in spec.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        return {**_resolve(options[0], defs), **{k: v for k, v in spec.items() if k != "anyOf"}}
    return spec


def widget_of(spec: dict[str, Any], defs: dict[str, Any], value: Any = None) -> tuple[str, str, list[str]]:
    """(kind, language, options) of the widget editing a property with this schema."""
    resolved = _resolve(spec, defs)
    code = spec.get("x-lanner-code") or resolved.get("x-lanner-code")
    kind = resolved.get("type")
    if code:
        return ("lines" if kind == "array" else "code"), code, []
    if "enum" in resolved:
        return "choice", "", [str(v) for v in resolved["enum"]]
    if kind == "boolean":
        return "switch", "", []
    if resolved.get("format") == "duration":
        return "duration", "", []
    if kind in ("integer", "number"):
        return "number", "", []
    if kind == "string":
        return "text", "", []
    if kind == "object" and "properties" not in resolved:
        extra = resolved.get("additionalProperties", {})
        if not isinstance(extra, dict) or extra.get("type") in ("string", "integer", "number", "boolean", None):
            return "map", "", []
    if kind == "array" and resolved.get("items", {}).get("type") in ("string", "integer", "number"):
        return "list", "", []
    alternatives = resolved.get("anyOf") or resolved.get("oneOf") or []
    if any(option.get("type") == "string" for option in alternatives) and not isinstance(value, dict | list):
        return "text", "", []  # text or something else (a list, say): text until the YAML says otherwise
    untyped = not kind and not {"anyOf", "oneOf", "properties", "$ref"} & resolved.keys()
    if untyped and not isinstance(value, dict | list):
        return "value", "", []  # untyped (a return value, a switch value): text that may read as a number
    return "yaml", "yaml", []


def task_fields(schema: dict[str, Any], raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Every property of a task but its id, type and task lists: required first, then its own, then common ones."""
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    lists = set(schema.get("x-lanner", {}).get("taskLists", []))
    fields = []
    for name, spec in schema["properties"].items():
        if name in ("id", "type") or name in lists:
            continue
        kind, language, options = widget_of(spec, defs, raw.get(name))
        help_text = spec.get("description") or _resolve(spec, defs).get("description", "")
        value = raw.get(name)
        if kind == "choice" and value is None:  # a select shows the value the task runs with, not a blank
            value = spec.get("default", _resolve(spec, defs).get("default"))
        fields.append(
            _field(
                name,
                kind,
                value,
                language=language,
                options=options,
                required=name in required,
                help_text=help_text,
            )
        )
    return sorted(fields, key=lambda f: (not f["required"], f["name"] in _COMMON))


def id_field(task_id: str) -> dict[str, Any]:
    """A task's id as a form field: renaming it renames every reference to it too."""
    return _field(
        "id",
        "task-id",
        task_id,
        required=True,
        help_text="Renaming updates the dependsOn lists and expressions (outputs.id...) that name it.",
    )


def flow_fields(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The flow-level settings form."""
    concurrency = raw.get("concurrency") if isinstance(raw.get("concurrency"), dict) else {}
    return [
        _field("id", "fixed", raw.get("id"), help_text="Fixed once the flow exists."),
        _field("namespace", "fixed", raw.get("namespace"), help_text="Fixed once the flow exists."),
        _field("description", "code", raw.get("description"), help_text="What this flow is for."),
        _field("labels", "map", raw.get("labels") or {}, help_text="Labels to find and filter flows and runs."),
        _field("inputs", "records", raw.get("inputs") or [], help_text="What a run asks for."),
        _field("variables", "map", raw.get("variables") or {}, help_text="Constants, read as {{ vars.name }}."),
        _field(
            "triggers",
            "records",
            raw.get("triggers") or [],
            help_text="Schedules (cron), webhooks (key), flow, realtime (a broker's messages) and polling triggers "
            "(a query, a URL) start runs.",
        ),
        _field(
            "concurrency.limit",
            "number",
            concurrency.get("limit"),
            label="concurrency limit",
            help_text="Most runs of this flow at once; empty for no limit.",
        ),
        _field(
            "concurrency.behavior",
            "choice",
            concurrency.get("behavior") or "queue",
            label="when over the limit",
            options=["queue", "cancel", "fail"],
        ),
        _field(
            "sla",
            "records",
            raw.get("sla") or [],
            label="SLAs",
            help_text="A run must end within a duration (maxDuration) or satisfy an assertion at its end; "
            "a breach fails it, cancels it or is only recorded.",
        ),
        _field("retry", "yaml", raw.get("retry"), language="yaml", help_text="Default retry of every task."),
        _field("timeout", "duration", raw.get("timeout"), help_text="The whole run fails after this long."),
        _field(
            "retention",
            "duration",
            raw.get("retention"),
            help_text="Ended runs older than this are deleted with their logs and files (empty: LANNER_RETENTION).",
        ),
        _field("disabled", "switch", bool(raw.get("disabled")), help_text="A disabled flow does not run."),
    ]


RECORD_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "inputs": [
        {"name": "id", "label": "id", "kind": "text"},
        {"name": "type", "label": "type", "kind": "select", "options": INPUT_TYPES, "default": "STRING"},
        {"name": "required", "label": "required", "kind": "switch", "default": True},
        {"name": "defaults", "label": "default", "kind": "text"},
        {"name": "description", "label": "description", "kind": "text"},
    ],
    "triggers": [
        {"name": "id", "label": "id", "kind": "text"},
        {"name": "type", "label": "type", "kind": "select", "options": TRIGGER_TYPES, "default": "schedule"},
        {"name": "cron", "label": "cron (schedule)", "kind": "text", "placeholder": "0 9 * * MON-FRI"},
        {"name": "timezone", "label": "time zone", "kind": "text", "placeholder": "UTC"},
        {"name": "key", "label": "key (webhook)", "kind": "text"},
        {"name": "disabled", "label": "off", "kind": "switch", "default": False},
    ],
    "sla": [
        {"name": "id", "label": "id", "kind": "text"},
        {"name": "type", "label": "type", "kind": "select", "options": SLA_TYPES, "default": "maxDuration"},
        {"name": "duration", "label": "duration (maxDuration)", "kind": "text", "placeholder": "30m"},
        {"name": "assert", "label": "assert (assertion)", "kind": "text", "placeholder": "{{ outputs.load.rows > 0 }}"},
        {"name": "behavior", "label": "behavior", "kind": "select", "options": SLA_BEHAVIORS, "default": "fail"},
    ],
}


class FieldError(ValueError):
    """A form value that cannot be written (its message names the field)."""


def value_of(kind: str, value: Any, name: str = "") -> Any:
    """A widget's value as the value written into the YAML; ``None`` removes the property."""
    if kind == "switch":
        return value is True or value == "true"
    if kind in ("map", "list"):
        return value or None
    if kind == "records":
        return [_clean_record(name, row) for row in value or [] if str(row.get("id", "")).strip()] or None
    text = "" if value is None else str(value)
    if kind == "lines":
        return [line for line in text.split("\n") if line.strip()] or None
    if text.strip() == "":
        return None
    if kind == "yaml":
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise FieldError(f"{name}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if kind == "code" and "\n" in text.strip("\n") and not text.endswith("\n"):
        return text + "\n"  # a multi-line script ends with a newline, so it stays a ``|`` block
    if kind in ("number", "value"):
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                continue
        if kind == "value" and text in ("true", "false"):
            return text == "true"
    return text


def _clean_record(name: str, row: dict[str, Any]) -> dict[str, Any]:
    """One input or trigger row: empty cells dropped, defaults typed by the input's type."""
    record = {k: v for k, v in row.items() if v not in ("", None)}
    if name == "inputs" and "defaults" in record and record.get("type") in ("INT", "FLOAT", "BOOLEAN", "JSON"):
        with contextlib.suppress(yaml.YAMLError):  # left as text: the flow's check names the bad default
            record["defaults"] = yaml.safe_load(str(record["defaults"]))
    if record.get("required") is True and name == "inputs":
        record.pop("required")  # inputs are required unless they say otherwise
    if record.get("disabled") is False:
        record.pop("disabled")
    return record
