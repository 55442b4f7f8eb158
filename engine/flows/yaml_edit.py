"""Edit flow YAML the way a person would: change only the text an edit must touch.

The studio's canvas and forms change a flow through these operations. Each one finds the YAML nodes
it needs (with their exact positions, from PyYAML's composer) and rewrites only their characters, so
comments, key order, quoting and blank lines everywhere else survive byte for byte. Every operation
takes the text and returns the new text; a text that does not parse raises ``EditError``.

One module of ~400 lines on purpose: the operations share the position helpers and the indentation rules, and
reading them side by side is how a reviewer checks that each edit touches only its own characters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.flows.yaml_source import parse_yaml

NOT_TASK_LISTS = {"inputs", "outputs", "triggers", "onResume", "conditions", "labels", "variables"}


class EditError(ValueError):
    pass


@dataclass
class TaskNode:
    id: str
    node: MappingNode
    sequence: SequenceNode
    index: int
    key: str  # the key holding the list (tasks, then, errors, a switch case...)
    key_node: ScalarNode | None = None


@functools.lru_cache(maxsize=4)
def _compose(text: str) -> MappingNode:
    """The text's node tree. Cached: one edit composes its text several times (checks, then the edit), and the
    next edit starts from this one's result; callers only read the nodes, never change them."""
    parsed = parse_yaml(text)  # read once for the canvas and the checks too (parse_yaml remembers recent texts)
    if parsed.refused:  # the limits every reader of flows has: an alias bomb is never walked
        raise EditError(str(parsed.problems[0].message))
    root = parsed.root
    if root is None:  # a syntax error, or merge keys (reading resolved them in its tree): the tree as written
        try:
            root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            raise EditError(f"the YAML does not parse: {exc}") from None
    if not isinstance(root, MappingNode):
        raise EditError("a flow must be a mapping")
    return root


def _get(mapping: MappingNode, key: str) -> tuple[ScalarNode, Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _tasks(
    node: Node, key: str = "", found: dict[str, TaskNode] | None = None, key_node: ScalarNode | None = None
) -> dict[str, TaskNode]:
    """Every task of the flow by id, wherever it is nested."""
    found = {} if found is None else found
    if isinstance(node, MappingNode):
        for child_key, value_node in node.value:
            name = child_key.value if isinstance(child_key, ScalarNode) else ""
            if name not in NOT_TASK_LISTS:
                _tasks(value_node, name, found, child_key)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            if isinstance(item, MappingNode) and _get(item, "type"):
                id_pair = _get(item, "id")
                if id_pair and isinstance(id_pair[1], ScalarNode):
                    found[id_pair[1].value] = TaskNode(id_pair[1].value, item, node, index, key, key_node)
            _tasks(item, key, found)
    return found


def find_task(text: str, task_id: str) -> TaskNode:
    task = _tasks(_compose(text)).get(task_id)
    if task is None:
        raise EditError(f"no task '{task_id}'")
    return task


# --- text positions ------------------------------------------------------------------------------


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Index just after the newline ending the line holding ``index`` (or the end of the text)."""
    end = text.find("\n", index)
    return len(text) if end == -1 else end + 1


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content_end(text: str, node: Node, owner_column: int) -> int:
    """End (after its newline) of the last line belonging to ``node``: trailing blank lines and comments
    at or left of ``owner_column`` belong to what follows."""
    position = min(node.end_mark.index, len(text))
    end_line = _line_start(text, position)
    if position == len(text) or not text[end_line:position].strip():
        # A block node ends where the next token starts: its content is on the lines before.
        last = _line_start(text, end_line - 1) if end_line > node.start_mark.index else end_line
    else:
        last = end_line  # a flow node or a scalar ends mid-line, right after its text
    cursor = last
    while cursor > node.start_mark.index:
        line = text[cursor : _line_end(text, cursor)]
        stripped = line.strip()
        owned = stripped and not (stripped.startswith("#") and _indent(line) <= owner_column)
        if owned and cursor >= _line_start(text, node.start_mark.index):
            break
        cursor = _line_start(text, cursor - 1)
    return _line_end(text, max(cursor, _line_start(text, node.start_mark.index)))


def _item_span(text: str, task: TaskNode, with_leading_comments: bool = True) -> tuple[int, int]:
    """The lines of one list item (its ``- `` line to its last line), with the comments right above it."""
    dash_column = task.node.start_mark.column - 2
    start = _line_start(text, task.node.start_mark.index)
    if with_leading_comments:
        while start > 0:
            previous = _line_start(text, start - 1)
            line = text[previous:start]
            if line.strip().startswith("#") and _indent(line) == dash_column:
                start = previous
            else:
                break
    return start, _content_end(text, task.node, dash_column)


# --- rendering values ------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000, sort_keys=False)
    return dumped.removesuffix("\n...\n").rstrip("\n")


def _block(value: Any, indent: int, block_style: bool = False) -> str:
    """``value`` as YAML lines for the value of a key at column ``indent`` (the text after ``key:``).

    Small flat maps and lists are written inline unless ``block_style`` asks for one entry per line."""
    if isinstance(value, str) and "\n" in value:
        pad = " " * (indent + 2)
        body = "".join(pad + line + "\n" if line else "\n" for line in value.rstrip("\n").split("\n"))
        return " |" + ("" if value.endswith("\n") else "-") + "\n" + body
    if (
        isinstance(value, dict | list)
        and value
        and (
            block_style
            or any(isinstance(v, dict | list) for v in (value.values() if isinstance(value, dict) else value))
        )
    ):
        dumped = yaml.safe_dump(value, default_flow_style=False, allow_unicode=True, width=10_000, sort_keys=False)
        pad = " " * (indent + 2)
        return "\n" + "".join(pad + line + "\n" for line in dumped.splitlines())
    return " " + _scalar(value) + "\n"


def _task_block(task: dict[str, Any], dash_column: int, flow_style: bool) -> str:
    pad = " " * dash_column
    if flow_style:
        return f"{pad}- {_scalar(task)}\n"
    lines = []
    for number, (key, value) in enumerate(task.items()):
        prefix = f"{pad}- " if number == 0 else pad + "  "
        lines.append(f"{prefix}{key}:{_block(value, dash_column + 2)}")
    return "".join(lines)


# --- operations ----------------------------------------------------------------------------------


def set_property(text: str, task_id: str, key: str, value: Any) -> str:
    """Set (or add) one property of a task; ``None`` removes it."""
    if value is None:
        return remove_property(text, task_id, key)
    return _set_in_mapping(text, find_task(text, task_id).node, key, value)


def remove_property(text: str, task_id: str, key: str) -> str:
    return _remove_from_mapping(text, find_task(text, task_id).node, key)


# Flow-level keys a form adds go before ``tasks`` (where people write them); the rest go at the end.
_SETTINGS_BEFORE_TASKS = ("description", "labels", "inputs", "variables", "retry", "timeout", "concurrency", "disabled")


def set_flow_property(text: str, key: str, value: Any) -> str:
    """Set (or add) one top-level key of the flow (labels, inputs, triggers...); ``None`` or empty removes it."""
    root = _compose(text)
    if value is None or value == {} or value == []:
        return _remove_from_mapping(text, root, key)
    tasks = _get(root, "tasks")
    if _get(root, key) is None and key in _SETTINGS_BEFORE_TASKS and tasks and not root.flow_style:
        start = _line_start(text, tasks[0].start_mark.index)
        while start > 0 and text[_line_start(text, start - 1) : start].lstrip().startswith("#"):
            start = _line_start(text, start - 1)  # the comments above ``tasks:`` stay with it
        column = root.start_mark.column
        return text[:start] + " " * column + f"{key}:{_block(value, column, block_style=True)}" + text[start:]
    return _set_in_mapping(text, root, key, value, block_style=True)


def _set_in_mapping(text: str, mapping: MappingNode, key: str, value: Any, block_style: bool = False) -> str:
    pair = _get(mapping, key)
    if mapping.flow_style:
        if pair:
            return text[: pair[1].start_mark.index] + _scalar(value) + text[pair[1].end_mark.index :]
        closing = text.rfind("}", mapping.start_mark.index, mapping.end_mark.index)
        return text[:closing].rstrip(" ") + f", {key}: {_scalar(value)}" + text[closing:]
    key_column = mapping.start_mark.column
    if pair:
        key_node, value_node = pair
        if isinstance(value_node, ScalarNode) and value_node.style in (None, "", "'", '"') and not (
                isinstance(value, str) and "\n" in value) and not isinstance(value, dict | list):  # fmt: skip
            return text[: value_node.start_mark.index] + _scalar(value) + text[value_node.end_mark.index :]
        if not isinstance(value_node, ScalarNode) and value_node.flow_style and isinstance(value, dict | list):
            return text[: value_node.start_mark.index] + _scalar(value) + text[value_node.end_mark.index :]
        start = key_node.end_mark.index + 1  # after "key:"
        end = (
            _content_end(text, value_node, key_column)
            if value_node.end_mark.index > value_node.start_mark.index
            else _line_end(text, key_node.start_mark.index)
        )
        keep_block = block_style or not isinstance(value_node, ScalarNode)  # a block map stays a block map
        return text[:start] + _block(value, key_column, keep_block) + text[end:]
    last_key, last_value = mapping.value[-1]
    insert_at = (
        _content_end(text, last_value, key_column)
        if last_value.end_mark.index > last_value.start_mark.index
        else _line_end(text, last_key.start_mark.index)
    )
    line = " " * key_column + f"{key}:{_block(value, key_column, block_style)}"
    if insert_at > 0 and text[insert_at - 1] != "\n":
        return text[:insert_at] + "\n" + line + text[insert_at:]
    return text[:insert_at] + line + text[insert_at:]


def _remove_from_mapping(text: str, mapping: MappingNode, key: str) -> str:
    pair = _get(mapping, key)
    if pair is None:
        return text
    key_node, value_node = pair
    if mapping.flow_style:
        before = text.rfind(",", mapping.start_mark.index, key_node.start_mark.index)
        if before != -1:
            return text[:before] + text[value_node.end_mark.index :]
        after = text.find(",", value_node.end_mark.index, mapping.end_mark.index)
        return text[: key_node.start_mark.index] + text[after + 1 :].lstrip(" ")
    start = _line_start(text, key_node.start_mark.index)
    end = (
        _content_end(text, value_node, mapping.start_mark.column)
        if value_node.end_mark.index > value_node.start_mark.index
        else _line_end(text, key_node.start_mark.index)
    )
    return text[:start] + text[end:]


def _sequence_at(
    text: str, parent_id: str | None, key: str
) -> tuple[MappingNode, SequenceNode | None, ScalarNode | None]:
    root = _compose(text)
    owner = root if parent_id is None else find_task(text, parent_id).node
    if "/" in key:  # a switch case: cases/<case>
        outer, case = key.split("/", 1)
        pair = _get(owner, outer)
        if pair is None or not isinstance(pair[1], MappingNode):
            raise EditError(f"task '{parent_id}' has no {outer}")
        owner, key = pair[1], case
    pair = _get(owner, key)
    if pair is None:
        return owner, None, None
    if isinstance(pair[1], ScalarNode) and pair[1].tag.endswith(":null"):
        return owner, SequenceNode("tag:yaml.org,2002:seq", [], pair[1].start_mark, pair[1].end_mark, True), pair[0]
    if not isinstance(pair[1], SequenceNode):
        raise EditError(f"'{key}' is not a list")
    return owner, pair[1], pair[0]


def insert_task(
    text: str, task: dict[str, Any], *, parent_id: str | None = None, key: str = "tasks", index: int | None = None
) -> str:
    """Insert a task into a list (the flow's ``tasks`` by default, or ``key`` of task ``parent_id``;
    ``cases/<case>`` for a switch case) at ``index`` (the end by default), in the style of its siblings."""
    if "id" not in task or "type" not in task:
        raise EditError("a task needs an id and a type")
    if task["id"] in _tasks(_compose(text)):
        raise EditError(f"a task '{task['id']}' already exists")
    owner, sequence, key_node = _sequence_at(text, parent_id, key)
    if sequence is None or not sequence.value:
        column = owner.start_mark.column if not owner.flow_style else 0
        block = _task_block(task, column + 2, False)
        if sequence is not None:  # an empty flow list: "tasks: []"
            start = _line_start(text, key_node.start_mark.index)
            end = _line_end(text, sequence.end_mark.index - 1)
            return text[:start] + " " * column + key.split("/")[-1] + ":\n" + block + text[end:]
        last_key, last_value = owner.value[-1]
        insert_at = (
            _content_end(text, last_value, column)
            if last_value.end_mark.index > last_value.start_mark.index
            else _line_end(text, last_key.start_mark.index)
        )
        prefix = "" if insert_at == 0 or text[insert_at - 1] == "\n" else "\n"
        return text[:insert_at] + prefix + " " * column + key.split("/")[-1] + ":\n" + block + text[insert_at:]
    if sequence.flow_style:
        rendered = _scalar(task)
        items = sequence.value
        position = len(items) if index is None else max(0, min(index, len(items)))
        if position == len(items):
            at = items[-1].end_mark.index
            return text[:at] + ", " + rendered + text[at:]
        at = items[position].start_mark.index
        return text[:at] + rendered + ", " + text[at:]
    items = sequence.value
    dash_column = items[0].start_mark.column - 2
    flow_items = all(getattr(item, "flow_style", False) for item in items)
    block = _task_block(task, dash_column, flow_items)
    position = len(items) if index is None else max(0, min(index, len(items)))
    siblings = _tasks(sequence)
    if position < len(items):
        at = _item_span(text, next(t for t in siblings.values() if t.node is items[position]))[0]
    else:
        last = next(t for t in siblings.values() if t.node is items[-1]) if siblings else None
        at = _item_span(text, last)[1] if last else _content_end(text, items[-1], dash_column)
        if at > 0 and text[at - 1] != "\n":
            block = "\n" + block
    return text[:at] + block + text[at:]


def delete_task(text: str, task_id: str) -> str:
    """Remove a task (with the comment lines right above it) and drop it from its siblings' ``dependsOn``."""
    task = find_task(text, task_id)
    if task.sequence.flow_style:
        items = task.sequence.value
        start, end = task.node.start_mark.index, task.node.end_mark.index
        if task.index + 1 < len(items):
            end = items[task.index + 1].start_mark.index
        elif task.index > 0:
            start = items[task.index - 1].end_mark.index
        text = text[:start] + text[end:]
    elif len(task.sequence.value) == 1 and task.key_node is not None:  # the list's last item: "key: []"
        _, end = _item_span(text, task)
        text = text[: task.key_node.end_mark.index + 1] + " []\n" + text[end:]
    else:
        start, end = _item_span(text, task)
        text = text[:start] + text[end:]
    for other in list(_tasks(_compose(text)).values()):
        depends = _get(other.node, "dependsOn")
        if depends and isinstance(depends[1], SequenceNode) and any(
                isinstance(i, ScalarNode) and i.value == task_id for i in depends[1].value):  # fmt: skip
            remaining = [i.value for i in depends[1].value if isinstance(i, ScalarNode) and i.value != task_id]
            text = set_property(text, other.id, "dependsOn", remaining)
    return text


def move_task(
    text: str, task_id: str, *, parent_id: str | None = None, key: str = "tasks", index: int | None = None
) -> str:
    """Move a task, keeping its own text (comments and formatting included), re-indented for its new place."""
    task = find_task(text, task_id)
    if task.sequence.flow_style or task.node.flow_style:
        data = yaml.safe_load(text[task.node.start_mark.index : task.node.end_mark.index])
        return insert_task(delete_task(text, task_id), data, parent_id=parent_id, key=key, index=index)
    start, end = _item_span(text, task)
    chunk = text[start:end]
    old_column = task.node.start_mark.column - 2
    without = text[:start] + text[end:]
    placeholder = {"id": task_id, "type": "log"}
    with_placeholder = insert_task(without, placeholder, parent_id=parent_id, key=key, index=index)
    moved = find_task(with_placeholder, task_id)
    new_column = moved.node.start_mark.column - 2
    p_start, p_end = _item_span(with_placeholder, moved, with_leading_comments=False)
    shift = new_column - old_column
    lines = chunk.splitlines(keepends=True)
    shifted = "".join(
        (" " * shift + line if shift >= 0 else line[min(-shift, _indent(line)) :]) if line.strip() else line
        for line in lines
    )
    return with_placeholder[:p_start] + shifted + with_placeholder[p_end:]


def connect(text: str, source_id: str, target_id: str) -> str:
    """``target`` waits for ``source``: add it to ``target``'s ``dependsOn`` (both in the same list)."""
    tasks = _tasks(_compose(text))
    source, target = tasks.get(source_id), tasks.get(target_id)
    if source is None or target is None:
        raise EditError(f"no task '{source_id if source is None else target_id}'")
    if source.sequence is not target.sequence:
        raise EditError(f"'{source_id}' and '{target_id}' are in different lists; dependsOn links tasks of one list")
    depends = _get(target.node, "dependsOn")
    current = [i.value for i in depends[1].value] if depends and isinstance(depends[1], SequenceNode) else None
    if current is None:
        # Without dependsOn the task waited for the one before it: keep that, and add the new link.
        previous = target.sequence.value[target.index - 1] if target.index > 0 else None
        previous_id = (
            _get(previous, "id")[1].value if isinstance(previous, MappingNode) and _get(previous, "id") else None
        )
        current = [previous_id] if previous_id else []
    if source_id in current:
        return text
    return set_property(text, target_id, "dependsOn", [*current, source_id])


def disconnect(text: str, source_id: str, target_id: str) -> str:
    target = find_task(text, target_id)
    depends = _get(target.node, "dependsOn")
    if not depends or not isinstance(depends[1], SequenceNode):
        return set_property(text, target_id, "dependsOn", [])
    remaining = [i.value for i in depends[1].value if i.value != source_id]
    return set_property(text, target_id, "dependsOn", remaining)
