"""Namespace task defaults: ``taskDefaults`` set once for every flow of a namespace and of those below it.

Written as a YAML list, exactly like a flow's ``taskDefaults`` (engine/flows/task_defaults.py), checked with the
same model and kept as written (the studio shows the text back). The worker applies them to the task it runs,
nearest namespace first, for what the task and its flow's own defaults leave unset: a flow's defaults win. The
flow loader cannot see them, which is why a connector's connection fields are optional and checked at run time.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session

from engine.core.namespaces import lineage
from engine.flows.problems import Problem
from engine.flows.task_defaults import TaskDefault, unused_keys, value_problems
from engine.flows.yaml_source import dotted_path, parse_yaml
from engine.identity import audit
from engine.store import task_defaults as store
from engine.store.tables import NamespaceTaskDefaults

_LIST = TypeAdapter(list[TaskDefault])


def parse_defaults(text: str, filename: str = "<taskDefaults>") -> tuple[list[dict[str, Any]], list[Problem]]:
    """The defaults a YAML text declares (a list, or a mapping holding ``taskDefaults:``), or its problems."""
    parsed = parse_yaml(text, filename) if text.strip() else None
    if parsed is None:
        return [], []
    if parsed.problems:
        return [], sorted(parsed.problems)
    data, positions, prefix = parsed.data, parsed.positions, ()
    if isinstance(data, dict) and set(data) == {"taskDefaults"}:
        data, prefix = data["taskDefaults"], ("taskDefaults",)
    if data is None:
        return [], []
    if not isinstance(data, list):
        message = "task defaults are a list of {type, values, forced}"
        return [], [Problem(*positions.of_value(prefix), message, "", filename)]
    problems: list[Problem] = []
    try:
        checked = _LIST.validate_python(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path = (*prefix, *(part for part in error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            where = positions.of_key(path) if error["type"] in ("missing", "extra_forbidden") else None
            line, column = where or positions.of_value(path)
            what = {"missing": "missing required property", "extra_forbidden": "unknown property"}.get(error["type"])
            text_ = f"{what} '{error['loc'][-1]}'" if what else f"{dotted_path(path[-1:])}: {message}"
            problems.append(Problem(line, column, text_, dotted_path(path), filename))
        return [], sorted(set(problems))
    for index, key in unused_keys(data):
        path = (*prefix, index, "values", key)
        message = f"unknown property '{key}': no task type {data[index]['type']}* has it"
        problems.append(Problem(*positions.of_key(path), message, dotted_path(path), filename))
    for index, default in enumerate(data):
        if "workerGroup" in (default.get("values") or {}):  # applied by the worker: too late to choose its queue
            path = (*prefix, index, "values", "workerGroup")
            message = "workerGroup cannot be a namespace task default: set the namespace's worker group instead"
            problems.append(Problem(*positions.of_key(path), message, dotted_path(path), filename))
        for key, message in value_problems(default):
            path = (*prefix, index, "values", key)
            place = positions.of_key(path) if message.startswith("unknown") else positions.of_value(path)
            problems.append(Problem(*place, message, dotted_path(path), filename))
    if problems:
        return [], sorted(problems)
    return [d.model_dump(mode="json", by_alias=True) for d in checked], []


def defaults_of(session: Session, namespace: str) -> NamespaceTaskDefaults | None:
    """The defaults set on this namespace itself (not inherited)."""
    return store.defaults_row(session, namespace)


def set_defaults(session: Session, namespace: str, source: str, actor: str | None = None) -> list[dict[str, Any]]:
    """Replace the namespace's defaults with those ``source`` declares (empty text: none); ``ValueError`` listing
    the problems (each with its line and column) when the text is wrong."""
    defaults, problems = parse_defaults(source)
    if problems:
        raise DefaultsInvalid(problems)
    store.save_defaults(session, namespace, source, defaults, actor)
    audit.record(session, actor or audit.SYSTEM, audit.AuditAction.CHANGED, namespace, "task defaults", namespace)
    return defaults


def inherited_defaults(session: Session, namespace: str) -> list[list[dict[str, Any]]]:
    """The defaults of the namespace's lineage, nearest namespace first (one query on the primary key)."""
    chain = lineage(namespace)
    found = store.defaults_of_lineage(session, chain)
    return [found[name] for name in chain if name in found]


class DefaultsInvalid(ValueError):
    """The text of a namespace's task defaults has problems; each names its line and column."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
