"""Checks that span more than one field: task ids, ``dependsOn``, cycles, expression references.

They run on the raw YAML data, so they report even when other parts of the flow are invalid.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.core import dag
from engine.core.expressions import is_template, parse_template, references, unknown_names
from engine.flows.tree import TaskList, task_lists
from engine.flows.yaml_source import Path, Positions


@dataclass(frozen=True)
class Finding:
    path: Path
    message: str
    at_key: bool = False  # point at the key naming ``path`` rather than at its value
    line_offset: int = 0  # line within a multi-line text value
    find: str | None = None  # a regular expression locating the problem on its line (its group ``at``, if any)


def check_structure(data: dict, positions: Positions) -> list[Finding]:
    findings: list[Finding] = []
    every_id: dict[str, Path] = {}
    lists = list(task_lists(data))
    occurrences = sorted(
        (positions.of_value(path), path, task["id"])
        for task_list in lists
        for index, task in enumerate(task_list.tasks)
        if isinstance(task, dict) and isinstance(task.get("id"), str)
        for path in [(*task_list.path, index, "id")]
    )
    for _, path, task_id in occurrences:  # in text order, so "first used" is the first one read
        if task_id in every_id:
            first_line, _ = positions.of_value(every_id[task_id])
            findings.append(Finding(path, f"duplicate task id '{task_id}' (first used on line {first_line})"))
        else:
            every_id[task_id] = path
    for task_list in lists:
        findings += _check_dependencies(task_list, every_id)
    findings += _check_unique(data, "inputs", "input")
    findings += _check_unique(data, "outputs", "output")
    findings += _check_unique(data, "triggers", "trigger")
    findings += _check_unique(data, "sla", "SLA")
    findings += _check_trigger_inputs(data)
    findings += _check_expressions(data, positions, set(every_id))
    findings += _check_assertions(data)
    return findings


def _check_dependencies(task_list: TaskList, every_id: dict[str, Path]) -> list[Finding]:
    findings: list[Finding] = []
    entries: list[tuple[str, list[str] | None]] = []
    local_ids = [t.get("id") for t in task_list.tasks if isinstance(t, dict) and isinstance(t.get("id"), str)]
    local = set(local_ids)  # looked up once per dependsOn entry: a list would make a 1,000-task flow quadratic
    for index, task in enumerate(task_list.tasks):
        if not isinstance(task, dict) or not isinstance(task.get("id"), str):
            continue
        raw = task.get("dependsOn")
        depends = [d for d in raw if isinstance(d, str)] if isinstance(raw, list) else None
        for position, name in enumerate(depends or []):
            where = (*task_list.path, index, "dependsOn", position)
            if name == task["id"]:
                findings.append(Finding(where, f"task '{name}' cannot depend on itself"))
            elif name not in local:
                if name in every_id:
                    message = (
                        f"dependsOn '{name}': that task is in another task list; "
                        "dependsOn can only name tasks of the same list"
                    )
                else:
                    close = difflib.get_close_matches(name, local_ids, n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    message = f"dependsOn '{name}': no task with that id in this list{hint}"
                findings.append(Finding(where, message))
        entries.append(
            (
                task["id"],
                [d for d in depends if d in local and d != task["id"]] if depends else depends,
            )
        )
    order = dag.predecessors(entries, parallel=task_list.parallel)
    cycle = dag.find_cycle(order)
    if cycle:
        index = local_ids.index(cycle[0])
        findings.append(
            Finding(
                (*task_list.path, index, "dependsOn"),
                "dependency cycle: " + " -> ".join(cycle),
                at_key=True,
            )
        )
    return findings


def _check_unique(data: dict, key: str, noun: str) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    items = data.get(key)
    for index, item in enumerate(items if isinstance(items, list) else []):
        item_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(item_id, str):
            if item_id in seen:
                findings.append(Finding((key, index, "id"), f"duplicate {noun} id '{item_id}'"))
            seen.add(item_id)
    return findings


def _declared_inputs(data: dict) -> set[str] | None:
    inputs = data.get("inputs", [])
    if not isinstance(inputs, list):
        return None
    return {i["id"] for i in inputs if isinstance(i, dict) and isinstance(i.get("id"), str)}


def _check_trigger_inputs(data: dict) -> list[Finding]:
    declared = _declared_inputs(data)
    triggers = data.get("triggers")
    if declared is None or not isinstance(triggers, list):
        return []
    findings: list[Finding] = []
    for index, trigger in enumerate(triggers):
        given = trigger.get("inputs") if isinstance(trigger, dict) else None
        for name in given if isinstance(given, dict) else {}:
            if name not in declared:
                findings.append(
                    Finding(
                        ("triggers", index, "inputs", name),
                        f"unknown input '{name}' for this flow",
                        at_key=True,
                    )
                )
    return findings


def _check_assertions(data: dict) -> list[Finding]:
    """An SLA's ``assert`` is an expression: a plain text would be always true (or always false), never checked."""
    entries = data.get("sla")
    findings: list[Finding] = []
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        text = entry.get("assert") if isinstance(entry, dict) else None
        if isinstance(text, str) and not is_template(text):
            message = "assert: an assertion is an expression such as {{ outputs.load.rows > 0 }}"
            findings.append(Finding(("sla", index, "assert"), message))
    return findings


def _strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _check_expressions(data: dict, positions: Positions, task_ids: set[str]) -> list[Finding]:
    declared = _declared_inputs(data)
    findings: list[Finding] = []
    for key in ("tasks", "errors", "finally", "outputs", "triggers", "variables", "sla"):
        for path, text in _strings(data.get(key), (key,)):
            if not is_template(text):
                continue
            tree, problem = parse_template(text)
            if problem:
                findings.append(Finding(path, problem.message, line_offset=problem.line_offset))
                continue
            for unknown in unknown_names(tree):
                findings.append(Finding(path, unknown.message, line_offset=unknown.line_offset, find=unknown.pattern))
            for ref in references(tree):
                if ref.root == "inputs" and declared is not None and ref.name not in declared:
                    close = difflib.get_close_matches(ref.name, sorted(declared), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    message = f"expression reads inputs.{ref.name}, but the flow declares no such input{hint}"
                    findings.append(Finding(path, message, line_offset=ref.line_offset, find=ref.pattern))
                elif ref.root == "outputs" and ref.name not in task_ids:
                    close = difflib.get_close_matches(ref.name, sorted(task_ids), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    message = f"expression reads outputs.{ref.name}, but no task has that id{hint}"
                    findings.append(Finding(path, message, line_offset=ref.line_offset, find=ref.pattern))
    return findings
