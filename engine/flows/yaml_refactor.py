"""Edits that reach across a flow's text, with ``yaml_edit``'s care: only the characters an edit must touch change.

- ``rename_task``: a task's id, and everything that names it (``dependsOn``, expressions, ``error.taskId``).
- ``set_flow_list``: a top-level list of records (inputs, triggers) changed entry by entry, so the comments and
  layout of the entries the edit does not touch survive byte for byte.

Kept apart from ``yaml_edit`` (whose operations act on one place) so each module stays readable on its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.core.expressions import is_template
from engine.flows import yaml_edit
from engine.flows.spec import TASK_ID_PATTERN
from engine.flows.yaml_edit import EditError, TaskNode
from engine.flows.yaml_source import parse_yaml

# --- renaming a task ---------------------------------------------------------------------------------------------

_EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def check_task_id(text: str, old_id: str, new_id: str) -> None:
    """Raise ``EditError`` (a message for the id field) when ``new_id`` cannot replace ``old_id``."""
    tasks = yaml_edit._tasks(yaml_edit._compose(text))
    if old_id not in tasks:
        raise EditError(f"no task '{old_id}'")
    if not new_id:
        raise EditError("id: a task needs an id")
    if len(new_id) > 100 or not re.match(TASK_ID_PATTERN, new_id):
        raise EditError(
            f"id: '{new_id}' is not a valid task id — use letters, digits, '_' and '-', starting with a letter or digit"
        )
    if new_id != old_id and new_id in tasks:
        raise EditError(f"id: another task is already called '{new_id}' — pick another id")


def _reference_patterns(old_id: str) -> list[tuple[re.Pattern[str], str]]:
    """How an expression names a task: ``outputs.t``, ``outputs['t']``/``outputs["t"]`` (quotes may be escaped
    inside a double-quoted YAML text), ``'t' in outputs``, and ``error.taskId == 't'``
    (either side)."""
    name = re.escape(old_id)
    quote = r"(\\?['\"])"
    return [
        (re.compile(rf"(\boutputs\s*\.\s*){name}(?![\w-])"), r"\1{new}"),
        (re.compile(rf"(\boutputs\s*\[\s*){quote}{name}\2"), r"\1\2{new}\2"),
        (re.compile(rf"{quote}{name}\1(\s+(?:not\s+)?in\s+outputs\b)"), r"\1{new}\1\2"),
        (re.compile(rf"(\berror\s*\.\s*taskId\s*[!=]=\s*){quote}{name}\2"), r"\1\2{new}\2"),
        (re.compile(rf"{quote}{name}\1(\s*[!=]=\s*error\s*\.\s*taskId\b)"), r"\1{new}\1\2"),
    ]


def _rename_in_expressions(source: str, old_id: str, new_id: str) -> str:
    """``source`` (a scalar's text as written) with its expressions' references to ``old_id`` renamed."""
    patterns = [(pattern, template.replace("{new}", new_id)) for pattern, template in _reference_patterns(old_id)]

    def rename(match: re.Match[str]) -> str:
        expression = match.group(0)
        for pattern, replacement in patterns:
            expression = pattern.sub(replacement, expression)
        return expression

    return _EXPRESSION.sub(rename, source)


def _scalars(node: Node) -> list[ScalarNode]:
    if isinstance(node, ScalarNode):
        return [node]
    found: list[ScalarNode] = []
    if isinstance(node, MappingNode):
        for _key, value in node.value:
            found += _scalars(value)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            found += _scalars(item)
    return found


def _replace_scalar(text: str, node: ScalarNode, value: str) -> tuple[int, int, str]:
    """An edit writing ``value`` (an id: letters, digits, '_' and '-') in place of a scalar, in its own quotes."""
    quote = node.style if node.style in ("'", '"') else ""
    return node.start_mark.index, node.end_mark.index, f"{quote}{value}{quote}"


def rename_task(text: str, old_id: str, new_id: str) -> str:
    """Rename a task and every reference to it: its ``id``, the ``dependsOn`` entries naming it, and expressions
    reading it (``outputs.old.x``, ``outputs['old']``, ``error.taskId == 'old'``) anywhere in the flow."""
    check_task_id(text, old_id, new_id)
    if new_id == old_id:
        return text
    root = yaml_edit._compose(text)
    tasks = yaml_edit._tasks(root)
    edits: list[tuple[int, int, str]] = []
    id_node = yaml_edit._get(tasks[old_id].node, "id")[1]
    edits.append(_replace_scalar(text, id_node, new_id))
    for task in tasks.values():
        depends = yaml_edit._get(task.node, "dependsOn")
        if depends is None:
            continue
        entries = depends[1].value if isinstance(depends[1], SequenceNode) else [depends[1]]
        edits += [
            _replace_scalar(text, entry, new_id)
            for entry in entries
            if isinstance(entry, ScalarNode) and entry.value == old_id
        ]
    for scalar in _scalars(root):
        if scalar is id_node or not is_template(scalar.value):
            continue
        start, end = scalar.start_mark.index, scalar.end_mark.index
        renamed = _rename_in_expressions(text[start:end], old_id, new_id)
        if renamed != text[start:end]:
            edits.append((start, end, renamed))
    for start, end, replacement in sorted(set(edits), reverse=True):
        text = text[:start] + replacement + text[end:]
    yaml_edit.find_task(text, new_id)  # the result parses and holds the task under its new id
    return text


# --- a list of records, entry by entry -----------------------------------------------------------------------------


def _current_list(text: str, key: str) -> tuple[SequenceNode | None, list[Any]]:
    root = yaml_edit._compose(text)
    pair = yaml_edit._get(root, key)
    data = parse_yaml(text).data
    values = data.get(key) if isinstance(data, dict) else None
    if pair is None or not isinstance(pair[1], SequenceNode) or not isinstance(values, list):
        return None, []
    return pair[1], values


def _set_entry(text: str, key: str, index: int, old: dict[str, Any], new: dict[str, Any]) -> str:
    """Change one record of the list in place: each changed key's text only."""
    for name in [k for k in old if k not in new]:
        sequence, _ = _current_list(text, key)
        text = yaml_edit._remove_from_mapping(text, sequence.value[index], name)
    for name, value in new.items():
        if name in old and old[name] == value:
            continue
        sequence, _ = _current_list(text, key)
        pair = yaml_edit._get(sequence.value[index], name)
        quoted = _in_same_quotes(pair[1] if pair else None, value)
        if quoted is not None:  # a quoted text stays quoted the same way
            text = text[: pair[1].start_mark.index] + quoted + text[pair[1].end_mark.index :]
        else:
            text = yaml_edit._set_in_mapping(text, sequence.value[index], name, value)
    return text


def _in_same_quotes(node: Node | None, value: Any) -> str | None:
    """``value`` written in the quotes ``node`` was written in, when it is a one-line text in quotes."""
    if not isinstance(node, ScalarNode) or not isinstance(value, str) or "\n" in value:
        return None
    if node.style == "'":
        return "'" + value.replace("'", "''") + "'"
    if node.style == '"':
        return json.dumps(value, ensure_ascii=False)
    return None


def _item(sequence: SequenceNode, index: int) -> TaskNode:
    """A list entry in the shape ``yaml_edit``'s span helpers take."""
    return TaskNode("", sequence.value[index], sequence, index, "")


def set_flow_list(text: str, key: str, items: list[Any] | None) -> str:
    """Set a top-level list (``inputs``, ``triggers``): an entry changed, added at the end or removed is written on
    its own; the other entries' text (comments inside and between them included) stays as it was. A change of
    another shape (entries reordered, say) rewrites the list."""
    sequence, old = _current_list(text, key)
    items = items or []
    editable = (
        sequence is not None
        and items
        and not sequence.flow_style
        and all(isinstance(node, MappingNode) for node in sequence.value)
        and all(isinstance(entry, dict) for entry in [*old, *items])
    )
    if not editable:
        return yaml_edit.set_flow_property(text, key, items or None)
    if len(items) == len(old):
        for index, (before, after) in enumerate(zip(old, items, strict=True)):
            if before != after:
                text = _set_entry(text, key, index, before, after)
        return text
    if len(items) == len(old) - 1:
        gone = next((i for i, entry in enumerate(items) if entry != old[i]), len(items))
        if items == old[:gone] + old[gone + 1 :]:
            start, end = yaml_edit._item_span(text, _item(sequence, gone))
            return text[:start] + text[end:]
    if len(items) > len(old) and items[: len(old)] == old:
        dash_column = sequence.value[0].start_mark.column - 2
        at = yaml_edit._item_span(text, _item(sequence, len(old) - 1))[1]
        # A new entry is written one key a line, as the form has always written it (the others stay as they are).
        block = "".join(yaml_edit._task_block(entry, dash_column, False) for entry in items[len(old) :])
        if at > 0 and text[at - 1] != "\n":
            block = "\n" + block
        return text[:at] + block + text[at:]
    return yaml_edit.set_flow_property(text, key, items)
