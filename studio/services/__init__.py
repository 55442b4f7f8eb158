"""The studio's one way into the engine. Pages and states call these functions, never Redis or SQL.

Flows and the editor are here; each other domain has its module beside this one (``executions``,
``history``, ``triggers``), sharing ``database()`` and ``connections()``.

Every function that reads or changes something of a namespace takes the ``principal`` who asks (from
``SessionState.principal()``) and checks it with ``engine.identity.authz``: the page's disabled buttons are only a
courtesy, these checks are the guard.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from engine.config import load_settings
from engine.core.levels import LEVELS
from engine.flows import yaml_edit
from engine.flows.graph import flow_graph
from engine.flows.loader import load_flow
from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.services import executions as execution_service
from engine.services import flows as flow_service
from engine.services.views import TaskRunView
from engine.store import flows as flow_store
from engine.store.database import open_database
from engine.tasks import registry
from engine.tasks.base import Group
from engine.workspace import uploads
from studio import forms


@functools.cache
def database() -> Engine:
    return open_database(load_settings().database_url)


@dataclass(frozen=True)
class FlowSummary:
    namespace: str
    flow_id: str
    revision: int
    description: str
    updated_at: str
    disabled: bool


def list_flows(principal: Principal, namespace: str | None = None, search: str = "") -> list[FlowSummary]:
    """The flows ``principal`` may read (filtered in SQL), of ``namespace`` and below when given."""
    return [
        FlowSummary(
            r.namespace,
            r.id,
            r.revision,
            (r.description or "").strip().splitlines()[0] if r.description else "",
            r.updated_at.strftime("%Y-%m-%d %H:%M"),
            r.disabled,
        )
        for r in flow_service.search(database(), principal, namespace or None, search)
    ]


def namespaces(principal: Principal) -> list[str]:
    """What the namespace selector offers: every existing namespace ``principal`` may read."""
    from studio.services.access import reachable_namespaces  # it imports this package

    return reachable_namespaces(principal)


def flow_source(principal: Principal, namespace: str, flow_id: str) -> str:
    return flow_service.get(database(), principal, namespace, flow_id).source or ""


# --- the editor -----------------------------------------------------------------------------------

_DEFAULTS: dict[str, dict[str, Any]] = {
    "log": {"message": "Hello from Lanner"},
    "return": {"value": "{{ execution.id }}"},
    "sleep": {"duration": "1s"},
    "fail": {"message": "Stopped on purpose"},
    "shell": {"commands": ["echo hello"]},
    "python": {"script": "print('hello')\n"},
    "http.request": {"uri": "https://example.com"},
    "switch": {"value": "{{ inputs }}", "cases": {}},
    "if": {"condition": "{{ true }}"},
    "foreach": {"values": ["a", "b"]},
    "subflow": {"namespace": "company", "flowId": "other"},
    "pause": {"delay": "1m"},
    "sql.query": {"url": "{{ secret('DATABASE_URL') }}", "sql": "SELECT 1 AS one"},
    "notify.slack": {"url": "{{ secret('SLACK_WEBHOOK') }}", "text": "Flow {{ flow.id }} finished"},
    "notify.email": {
        "host": "smtp.example.com",
        "from": "lanner@example.com",
        "to": ["team@example.com"],
        "subject": "Flow {{ flow.id }} finished",
        "body": "Execution {{ execution.id }} is done.",
    },
}
_CHILD_LISTS = {"sequential": "tasks", "parallel": "tasks", "foreach": "tasks", "if": "then"}


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

    task: dict[str, Any] = {"id": fresh(base), "type": task_type, **_DEFAULTS.get(task_type, {})}
    if task_type in _CHILD_LISTS:
        task[_CHILD_LISTS[task_type]] = [{"id": fresh("log"), "type": "log", "message": "inside"}]
    return task


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


def save_flow(principal: Principal, text: str, filename: str = "<flow>") -> str:
    """Save a new revision (none when the text is unchanged); returns what happened.

    Raises ``FlowInvalid`` for a flow with problems; the namespace the text declares is the one checked, so
    a flow cannot be saved into a namespace by renaming it in the editor."""
    return flow_service.save(database(), principal, text, filename=filename).message


def edit(text: str, operation: str, **arguments: Any) -> str:
    """Apply one of ``engine.flows.yaml_edit``'s operations (insert_task, connect, delete_task, ...)."""
    return getattr(yaml_edit, operation)(text, **arguments)


# --- running from the editor ----------------------------------------------------------------------


@functools.cache
def connections() -> Any:
    from engine.runtime.connection import connect
    from engine.services.commands import Connections

    settings = load_settings()
    if not settings.redis_url:
        raise RuntimeError("the studio needs LANNER_REDIS_URL (lanner server sets it)")
    return Connections(database(), connect(settings.redis_url))


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


# The widget of each input type; the browser then only lets through what the type can hold.
_INPUT_WIDGETS = {
    "INT": "integer", "FLOAT": "number", "BOOLEAN": "switch", "SELECT": "select", "MULTISELECT": "checkboxes",
    "DATE": "date", "DATETIME": "datetime-local", "JSON": "json", "SECRET": "password", "DURATION": "duration",
    "FILE": "file",
}  # fmt: skip


def _input_default(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        import json

        return json.dumps(value)
    return str(value)


def node_run_view(run: dict[str, Any] | None) -> dict[str, str]:
    """What a canvas node shows of its task run: state, error, duration and attempts."""
    if run is None:
        return {"state": "", "error": "", "duration": "", "attempts": ""}
    millis = run["duration_ms"]
    duration = "" if not millis else f"{millis} ms" if millis < 1000 else f"{millis / 1000:.1f} s"
    return {
        "state": run["state"],
        "error": run["error"],
        "duration": duration,
        "attempts": f"attempt {run['attempts']}" if run["attempts"] > 1 else "",
    }


def start_run(principal: Principal, namespace: str, flow_id: str, inputs: dict[str, Any]) -> str:
    """Start an execution; raises ``InputsInvalid`` naming each bad input."""
    authz.require_flow(principal, Action.RUN, namespace, flow_id)  # refused before Redis is needed
    given = {k: v for k, v in inputs.items() if v not in ("", None)}
    trigger = {"type": "studio", "actor": principal.name}  # the audit trail names the person (store._actor)
    return execution_service.start(connections(), principal, namespace, flow_id, inputs=given, trigger=trigger)


def store_run_file(principal: Principal, namespace: str, flow_id: str, field: str, name: str, data: bytes) -> str:
    """A file chosen in the Run dialog for a FILE input; only someone who may run the flow may send one."""
    authz.require_flow(principal, Action.RUN, namespace, flow_id)
    return keep_input_file(namespace, flow_id, field, name, data)


def keep_input_file(namespace: str, flow_id: str, field: str, name: str, data: bytes) -> str:
    """Keep a file sent for a FILE input as the API keeps a multipart upload (the one place a FILE value may
    point to): its stored path, the input's value. The caller has checked who sends it."""
    folder = uploads.upload_folder(load_settings().home, namespace, flow_id)
    try:
        return uploads.save(folder, name, field, data)
    except uploads.UploadRefused:
        uploads.discard(folder)
        raise


def kill_run(principal: Principal, execution_id: str) -> None:
    execution_service.require(database(), principal, Action.KILL, execution_id)  # refused before Redis is needed
    execution_service.kill(connections(), principal, execution_id)


def run_status(principal: Principal, execution_id: str, after: int) -> dict[str, Any]:
    """The execution's state, each task's latest run (state, attempts, duration) and log lines after ``after``."""
    execution = execution_service.get(database(), principal, execution_id)
    lines = execution_service.read_log_lines(database(), execution_id, after=after, limit=500)
    tasks = {run.task_id: run_view(run) for run in execution.task_runs or []}  # the latest run of each task wins
    return {
        "state": execution.state,
        "error": execution.error or "",
        "outputs": execution.outputs,
        "tasks": tasks,
        "logs": [log_row(line) for line in lines],
    }


def run_view(run: TaskRunView) -> dict[str, Any]:
    """A task run as the canvas and the outputs panels use it."""
    return {
        "state": run.state,
        "attempts": run.attempts,
        "duration_ms": run.duration_ms or 0,
        "error": run.error or "",
        "outputs": run.outputs or {},
    }


LOG_LEVELS = list(LEVELS)


def log_row(line: Any) -> dict[str, Any]:
    """A stored log line as the log panels show it."""
    return {
        "id": line.id,
        "task_id": line.task_id or "",
        "level": line.level,
        "text": f"{line.timestamp:%H:%M:%S} {line.level:<5} {line.task_id or '-'} {line.message}",
    }


def visible_logs(lines: list[dict[str, Any]], *, task_id: str, level: str, search: str) -> list[dict[str, Any]]:
    """The lines a log panel shows: of one task (or all when empty), at or above ``level`` (or ALL), matching."""
    floor = 0 if level == "ALL" else LOG_LEVELS.index(level)
    needle = search.lower()
    return [
        line
        for line in lines
        if (not task_id or line["task_id"] == task_id)
        and LOG_LEVELS.index(line["level"]) >= floor
        and (not needle or needle in line["text"].lower())
    ]


def _raw_task(text: str, task_id: str) -> dict[str, Any] | None:
    """A task as written in the YAML (plain data), wherever it is nested; None if absent or unparsable."""
    from engine.flows.tree import task_lists
    from engine.flows.yaml_source import parse_yaml

    data = parse_yaml(text).data
    if not isinstance(data, dict):
        return None
    return next(
        (t for found in task_lists(data) for t in found.tasks if isinstance(t, dict) and t.get("id") == task_id), None
    )


def task_form(text: str, task_id: str) -> list[dict[str, Any]]:
    """The form of one task: a widget per property (see ``studio.forms``) holding its current value."""
    raw = _raw_task(text, task_id)
    if raw is None or registry.get(raw.get("type")) is None:
        return []
    return forms.task_fields(registry.json_schema(raw["type"]), raw)


def flow_form(text: str) -> list[dict[str, Any]]:
    """The flow-level settings form (id, namespace, description, labels, inputs, variables, triggers...)."""
    from engine.flows.yaml_source import parse_yaml

    data = parse_yaml(text).data
    return forms.flow_fields(data) if isinstance(data, dict) else []


def set_flow_setting(text: str, name: str, value: Any) -> str:
    """Write one flow-level setting; ``concurrency.limit`` and its siblings write the ``concurrency`` map."""
    if "." not in name:
        return yaml_edit.set_flow_property(text, name, value)
    from engine.flows.yaml_source import parse_yaml

    key, _, part = name.partition(".")
    data = parse_yaml(text).data
    current = data.get(key) if isinstance(data, dict) and isinstance(data.get(key), dict) else {}
    merged = {**current, part: value} if value is not None else {k: v for k, v in current.items() if k != part}
    if key == "concurrency" and "limit" not in merged:
        merged = {}  # a behaviour without a limit means nothing
    return yaml_edit.set_flow_property(text, key, merged or None)


def form_value(kind: str, value: Any, name: str = "") -> Any:
    """A form widget's value as written into the YAML (raises ``forms.FieldError`` naming the field)."""
    return forms.value_of(kind, value, name)


def expression_names(text: str, task_outputs: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """What a form's text field completes inside ``{{ }}``: this flow's inputs, variables, task outputs."""
    from engine.flows.yaml_source import parse_yaml

    data = parse_yaml(text).data
    data = data if isinstance(data, dict) else {}
    names = [
        {"label": f"inputs.{i['id']}", "detail": f"input {i.get('type', '')}"}
        for i in data.get("inputs") or []
        if isinstance(i, dict) and i.get("id")
    ]
    names += [{"label": f"vars.{name}", "detail": "variable"} for name in data.get("variables") or {}]
    from engine.flows.tree import task_lists

    for found in task_lists(data):
        for task in found.tasks:
            if isinstance(task, dict) and task.get("id"):
                keys = sorted((task_outputs or {}).get(task["id"], {})) or ["value"]
                names += [
                    {"label": f"outputs.{task['id']}.{key}", "detail": f"output of {task.get('type')}"} for key in keys
                ]
    run_names = ("execution.id", "execution.startDate", "flow.id", "flow.namespace", "taskrun.value", "trigger.date")
    names += [{"label": label, "detail": "run"} for label in run_names]
    names.append({"label": "secret('NAME')", "detail": "secret"})
    return names


def completions() -> list[dict[str, str]]:
    """Words the YAML editor completes: task types, property names, expression roots."""
    words: dict[str, dict[str, str]] = {}
    for name, schema in registry.catalog().items():
        words[name] = {"label": name, "kind": "type", "detail": schema["x-lanner"]["title"]}
        for prop in schema["properties"]:
            words.setdefault(prop, {"label": prop, "kind": "property", "detail": "property"})
    for key in (
        "id",
        "namespace",
        "description",
        "labels",
        "inputs",
        "variables",
        "tasks",
        "errors",
        "finally",
        "outputs",
        "triggers",
        "concurrency",
    ):
        words.setdefault(key, {"label": key, "kind": "keyword", "detail": "flow"})
    for root in ("inputs.", "outputs.", "vars.", "execution.", "trigger.", "taskrun.value", "flow.", "secret('')"):
        words[root] = {"label": root, "kind": "variable", "detail": "expression"}
    return sorted(words.values(), key=lambda w: w["label"])


def drop_target(text: str, node_id: str) -> dict[str, Any]:
    """Where a task dropped on ``node_id`` goes: into that group's first list (or next to a plain task)."""
    if not node_id:
        return {}
    if node_id.startswith("$flow$"):
        return {"key": node_id.removeprefix("$flow$")}
    if "$" in node_id:
        owner, _, key = node_id.partition("$")
        return {"parent_id": owner, "key": key}
    raw = _raw_task(text, node_id)
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


def revisions(principal: Principal, namespace: str, flow_id: str) -> list[dict[str, str]]:
    try:
        found = flow_service.revisions(database(), principal, namespace, flow_id)
    except flow_store.FlowNotFound:
        return []  # a flow without revisions has no history to list
    return [
        {
            "revision": str(r.revision),
            "created": r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "author": r.author or "-",
            "deleted": "yes" if r.deleted else "",
        }
        for r in reversed(found)
    ]


def revision_source(principal: Principal, namespace: str, flow_id: str, revision: int) -> str:
    return flow_service.revision_source(database(), principal, namespace, flow_id, revision)


def revision_diff(before: str, after: str, before_name: str, after_name: str) -> list[dict[str, str]]:
    """Side-by-side rows (left, right, kind) of two texts: equal, changed, added or removed lines."""
    import difflib

    rows: list[dict[str, str]] = []
    left, right = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        span = max(i2 - i1, j2 - j1)
        for offset in range(span):
            a = left[i1 + offset] if i1 + offset < i2 else ""
            b = right[j1 + offset] if j1 + offset < j2 else ""
            rows.append({"left": a, "right": b, "kind": tag})
    return rows


def create_flow(principal: Principal, namespace: str, flow_id: str) -> str:
    """A new flow with one task, saved as revision 1; raises ``FlowInvalid`` for a bad id or namespace, and
    ``Conflict`` (a ``ValueError``) when it exists. A new namespace needs the editor role on a namespace above it
    (or a global administrator)."""
    return flow_service.create(database(), principal, namespace, flow_id)


def import_flow(principal: Principal, source: bytes, filename: str) -> tuple[str, str, str]:
    """Save an uploaded YAML file as a flow's newest revision: (namespace, flow id, what happened).

    Raises ``FlowInvalid`` whose problems name the file, line and column, or ``InvalidInput`` (a
    ``ValueError``) for a file that is not text."""
    deployed = flow_service.save(database(), principal, flow_service.decode_upload(source, filename), filename=filename)
    return deployed.namespace, deployed.id, deployed.message


def delete_flow(principal: Principal, namespace: str, flow_id: str) -> None:
    flow_service.delete(database(), principal, namespace, flow_id)
