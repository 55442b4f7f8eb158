"""Load a flow from YAML text: a valid ``Flow``, or every problem found, each at its line and column."""

from __future__ import annotations

import difflib
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.flows.checks import Finding, check_structure
from engine.flows.model import Flow
from engine.flows.problems import FlowInvalid, Problem
from engine.flows.task_defaults import apply_flow_defaults, origin_of, unused_keys
from engine.flows.yaml_source import Path, Positions, dotted_path, parse_yaml
from engine.tasks import registry


@dataclass
class LoadResult:
    flow: Flow | None
    problems: list[Problem] = field(default_factory=list)
    data: Any = None
    positions: Positions = field(default_factory=Positions)
    refused: bool = False  # over a parsing limit (see engine.flows.yaml_source): the API answers 422, not a report

    @property
    def ok(self) -> bool:
        return self.flow is not None and not self.problems


def load_flow(text: str, filename: str = "<flow>") -> LoadResult:
    """Parse and check ``text``; never raises for bad input."""
    parsed = parse_yaml(text, filename)
    problems = list(parsed.problems)
    data, positions = parsed.data, parsed.positions
    if data is None:
        if not problems:  # a document holding only ``~`` or ``null``
            problems.append(Problem(1, 1, "the document is empty", "", filename))
        return LoadResult(None, sorted(problems), data, positions, refused=parsed.refused)
    if not isinstance(data, dict):
        line, column = positions.of_value(())
        problems.append(Problem(line, column, "a flow must be a mapping with id, namespace and tasks", "", filename))
        return LoadResult(None, sorted(problems), data, positions)

    flow: Flow | None = None
    # taskDefaults are applied to a copy: the tasks are checked with them, the data (and the text) stay as written.
    applied, origins = apply_flow_defaults(data)
    try:
        flow = Flow.model_validate(applied)
    except ValidationError as exc:
        problems += _problems_from_validation(exc, applied, positions, filename, origins)
    for index, key in unused_keys(data.get("taskDefaults") if isinstance(data.get("taskDefaults"), list) else []):
        line, column = positions.of_key(("taskDefaults", index, "values", key))
        message = f"unknown property '{key}': no task type {data['taskDefaults'][index]['type']}* has it"
        problems.append(Problem(line, column, message, f"taskDefaults[{index}].values.{key}", filename))
    lines = text.splitlines()
    for finding in check_structure(data, positions):
        problems.append(_problem_from_finding(finding, data, positions, filename, lines))
    problems = sorted(set(problems))
    return LoadResult(flow if not problems else None, problems, data, positions)


def load_flow_or_raise(text: str, filename: str = "<flow>") -> Flow:
    result = load_flow(text, filename)
    if not result.ok:
        raise FlowInvalid(result.problems)
    return result.flow  # type: ignore[return-value]


def read_source(path: FilePath) -> str:
    """A flow file's text exactly as written (no newline translation), so it is stored byte for byte."""
    return path.read_bytes().decode("utf-8")


# --- turning pydantic's errors into problems a person can act on -------------------------------


def _walk(loc: tuple, data: Any) -> tuple[Path, Any, bool]:
    """Follow ``loc`` through the data, skipping pydantic's union tags; (path, value, complete)."""
    path: list[str | int] = []
    current = data
    complete = True
    for index, part in enumerate(loc):
        if isinstance(current, dict) and part == current.get("type") and index and isinstance(loc[index - 1], int):
            complete = complete and index < len(loc) - 1
            continue  # the task union's tag (the type's name), even when a property has that name (script.script)
        if (isinstance(current, dict) and isinstance(part, str) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        ):
            path.append(part)
            current = current[part]
        elif part is loc[-1]:
            complete = False
    return tuple(path), current, complete


_OWNER_NOUNS = {"inputs": "input", "outputs": "output", "triggers": "trigger", "sla": "SLA"}


def _owner(path: Path, data: Any) -> str | None:
    """The innermost task, input, output or trigger enclosing ``path``, e.g. "task 'extract'"."""
    noun = _OWNER_NOUNS.get(path[0], "task") if path else "task"
    owner, current = None, data
    for part in path:
        current = current[part]
        if isinstance(current, dict) and isinstance(current.get("id"), str):
            owner = f"{noun} '{current['id']}'"
    return owner


def _allowed_keys(container: Any, path: Path) -> list[str]:
    model: type[BaseModel] | None = None
    if path == ():
        model = Flow
    elif isinstance(container, dict):
        model = registry.get(container.get("type")) if isinstance(container.get("type"), str) else None
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _message(error: dict, path: Path, value: Any, complete: bool, data: Any) -> tuple[str, bool]:
    """Message for one pydantic error; and whether to point at the key rather than the value."""
    kind = error["type"]
    field_name = dotted_path(path[-1:]) if path else "flow"
    if kind == "missing":
        return f"missing required property '{error['loc'][-1]}'", True
    if kind == "extra_forbidden":
        parent_path, key = path[:-1], path[-1]
        parent = data
        for part in parent_path:
            parent = parent[part]
        close = difflib.get_close_matches(str(key), _allowed_keys(parent, parent_path), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown property '{key}'{hint}", True
    if kind == "union_tag_invalid":
        tag = error["ctx"]["tag"]
        expected = [t.strip(" '") for t in error["ctx"]["expected_tags"].split(",")]
        if set(expected) <= set(registry.names()):
            suggestion = registry.suggest(tag)
            hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
            return f"unknown task type '{tag}'{hint}", False
        close = difflib.get_close_matches(str(tag), expected, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (expected one of {', '.join(expected)})"
        return f"unknown type '{tag}'{hint}", False
    if kind == "union_tag_not_found":
        return "missing required property 'type'", True
    if kind == "string_pattern_mismatch" and path and path[-1] in ("id", "namespace", "flowId"):
        if path[-1] == "namespace":
            rule = "lowercase letters, digits, '_' or '-', in dot-separated parts (e.g. acme.sales)"
        elif path == ("id",) or path[-1] == "flowId":
            rule = "letters, digits, '.', '_' or '-', starting with a letter or digit"
        else:
            rule = "letters, digits, '_' or '-', starting with a letter or digit"
        return f"'{value}' is not a valid {path[-1]}: use {rule}", False
    if kind == "too_short":
        least = error.get("ctx", {}).get("min_length", 1)
        return (
            f"{field_name}: needs at least {least} item{'s' if least != 1 else ''}",
            False,
        )
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    elif message.startswith("Assertion failed, "):
        message = message[len("Assertion failed, ") :]
    if not complete:
        return message, False
    return f"{field_name}: {message}", False


def _problems_from_validation(
    exc: ValidationError, data: Any, positions: Positions, filename: str, origins: dict[Path, Path] | None = None
) -> list[Problem]:
    """One problem per place; one in a value a taskDefault gave a task is reported at that default."""
    problems: list[Problem] = []
    seen_paths: set[Path] = set()
    for error in exc.errors(include_url=False):
        path, value, complete = _walk(error["loc"], data)
        if error["type"] == "extra_forbidden":
            complete = True
        # A union reports once per member it tried; one message per place is enough.
        if error["type"] not in ("missing", "extra_forbidden") and path in seen_paths:
            continue
        seen_paths.add(path)
        message, at_key = _message(error, path, value, complete, data)
        if error["type"] in ("union_tag_invalid",) and isinstance(value, dict) and "type" in value:
            path, at_key = (*path, "type"), False
        owner = _owner(path, data)
        if owner:
            message = f"{owner}: {message}"
        origin = origin_of(path, origins) if origins else None
        if origin is not None:
            message, path = f"{message} (from taskDefaults)", origin
        line, column = positions.of_key(path) if at_key else positions.of_value(path)
        problems.append(Problem(line, column, message, dotted_path(path), filename))
    return problems


def _problem_from_finding(
    finding: Finding, data: Any, positions: Positions, filename: str, lines: list[str]
) -> Problem:
    line, column = positions.of_key(finding.path) if finding.at_key else positions.of_value(finding.path)
    if finding.line_offset or finding.path in positions.blocks:
        # Inside a multi-line text: point at the line the expression is on, where its text starts.
        line += finding.line_offset + (1 if finding.path in positions.blocks else 0)
        text_line = lines[line - 1] if 0 < line <= len(lines) else ""
        column = len(text_line) - len(text_line.lstrip()) + 1
    if finding.find:
        found = re.compile(finding.find).search(lines[line - 1] if 0 < line <= len(lines) else "", max(column - 1, 0))
        column = found.start("at" if "at" in found.re.groupindex else 0) + 1 if found else column
    owner = _owner(finding.path, data)
    duplicate = finding.message.startswith("duplicate")
    message = f"{owner}: {finding.message}" if owner and not duplicate else finding.message
    return Problem(line, column, message, dotted_path(finding.path), filename)


class ParsedFlows:
    """Flows parsed from stored revisions, by ``(namespace, flow id, revision)``: a revision never changes, so
    each is parsed once. Bounded: past ``limit`` entries it starts afresh (parsing again is only slower).

    One cache belongs to one database (``for_database``), since two databases (two tests, two servers in one
    process) can hold different texts under the same key; a caller may also pass its own.
    """

    def __init__(self, limit: int = 2048) -> None:
        self.limit = limit
        self._flows: dict[tuple[str, str, int], Flow] = {}

    def get(self, namespace: str, flow_id: str, revision: int, source: Callable[[], str]) -> Flow:
        """The parsed flow; ``source`` is called for its text only when it is not cached yet."""
        key = (namespace, flow_id, revision)
        flow = self._flows.get(key)
        if flow is None:
            flow = load_flow_or_raise(source(), f"{namespace}/{flow_id}@{revision}")
            if len(self._flows) >= self.limit:
                self._flows.clear()
            self._flows[key] = flow
        return flow

    def clear(self) -> None:
        self._flows.clear()


_PER_DATABASE: weakref.WeakKeyDictionary[object, ParsedFlows] = weakref.WeakKeyDictionary()


def parsed_flows_for(database: object) -> ParsedFlows:
    """The cache of flows parsed from ``database`` (an SQLAlchemy engine); it goes away with the engine."""
    cache = _PER_DATABASE.get(database)
    if cache is None:
        cache = _PER_DATABASE.setdefault(database, ParsedFlows())
    return cache
