"""Parse YAML into plain data while remembering where every key and value sits in the text.

PyYAML's composer gives every node its position; we build the Python values ourselves so that
duplicate keys are reported (all of them, not only the first) instead of silently overwritten.

Hostile text is refused at once, with a problem at its place: a document over ``MAX_YAML_CHARS``, holding more
than ``MAX_YAML_VALUES`` values, nesting deeper than ``MAX_YAML_DEPTH``, or aliases that would expand to more
than ``MAX_ALIAS_EXPANSION`` values (a "billion laughs" document of a few hundred bytes otherwise grows to
millions of values).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.flows.problems import Problem

Path = tuple[str | int, ...]

MAX_YAML_CHARS = 1_000_000  # real flows are a few kB; the API, files and the studio are all held to it
MAX_YAML_VALUES = 50_000  # keys, scalars, lists and mappings: a flow of 4,000 plain tasks holds about 30,000
MAX_YAML_DEPTH = 100  # flows nest a few levels; Python's own recursion limit is about 1,000 frames
MAX_ALIAS_EXPANSION = 10_000  # values built again because an alias (*name) repeats an anchored node

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser is several times faster


class _TooLarge(Exception):
    """Reading stops: the document goes beyond a limit."""


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """YAML 1.2 scalars: only true/false are booleans (``yes``, ``no``, ``on``, ``off`` stay text),
    and no sexagesimal (``1:30``) or leading-zero octal numbers."""

    yaml_implicit_resolvers = {
        first: [
            (tag, regexp)
            for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        ]
        for first, resolvers in _Base.yaml_implicit_resolvers.items()
    }


class _CountingLoader(_Loader):
    """Stops composing past ``MAX_YAML_VALUES`` values: the parser asks for every value's type as it reads it
    (aliases excepted: they are counted when built), long before the whole text is read."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.values = 0
        self._tags: dict[tuple, str] = {}  # a flow repeats its keys and values (id, type, dependsOn, log...)

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        self.values += 1
        if self.values > MAX_YAML_VALUES:
            raise _TooLarge
        key = (kind, value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag


_DECIMAL = re.compile(r"^[-+]?[0-9]+$")
_STR = "tag:yaml.org,2002:str"
_FLATTENED = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")  # keys flatten_mapping rewrites in place
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


@dataclass
class Positions:
    """1-based (line, column) of every value and every mapping key, by data path."""

    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    #: paths of block scalars (``|`` or ``>``), whose text starts on the line after the indicator
    blocks: set[Path] = field(default_factory=set)

    def of_value(self, path: Path) -> tuple[int, int]:
        """Position of the value at ``path``, or of the nearest enclosing value that exists."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return (1, 1)

    def of_key(self, path: Path) -> tuple[int, int]:
        """Position of the key naming ``path`` (falls back to its value)."""
        return self.keys.get(path) or self.of_value(path)


@dataclass
class ParsedYaml:
    data: Any
    positions: Positions
    problems: list[Problem]
    #: the text exceeds a limit (size, nesting, alias expansion) and was not read: hostile, not merely wrong
    refused: bool = False
    #: the node tree as written, for text edits (``engine.flows.yaml_edit``) to read, never change; None when
    #: reading changed it (merge keys are resolved in place)
    root: Node | None = field(default=None, compare=False, repr=False)


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.positions = Positions()
        self.problems: list[Problem] = []
        self._scalars = SafeConstructor()
        self._built: set[int] = set()  # ids of the nodes built once: building one again is an alias' expansion
        self._expanded = 0
        self._outside_alias: tuple[int, int] = (1, 1)  # the innermost container written out, not reached by alias
        self.changed_nodes = False  # a merge key (<<) was resolved: the node tree no longer matches the text

    def problem(self, where: tuple[int, int], message: str, path: Path) -> None:
        self.problems.append(Problem(where[0], where[1], message, dotted_path(path), self.filename))

    def build(self, node: Node, path: Path, in_alias: bool = False) -> Any:
        self._guard(node, path, in_alias)
        in_alias = in_alias or id(node) in self._built
        self._built.add(id(node))
        self.positions.values[path] = _mark(node)
        if isinstance(node, ScalarNode):
            if node.style in ("|", ">"):
                self.positions.blocks.add(path)
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i), in_alias) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path, in_alias)
        return None  # pragma: no cover - YAML has no other node kinds

    def _guard(self, node: Node, path: Path, in_alias: bool) -> None:
        """Stop at the first value past a limit, pointing at the text that was written (not at an anchor)."""
        if len(path) > MAX_YAML_DEPTH:
            message = f"the document nests deeper than {MAX_YAML_DEPTH} levels"
            self.problems.append(Problem(*_mark(node), message, "", self.filename))
            raise _TooLarge
        if in_alias or id(node) in self._built:
            self._expanded += 1
            if self._expanded > MAX_ALIAS_EXPANSION:
                message = f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} values"
                self.problems.append(Problem(*self._outside_alias, message, "", self.filename))
                raise _TooLarge
        elif not isinstance(node, ScalarNode):
            self._outside_alias = _mark(node)

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        if node.tag == _STR:  # most values and every key: the constructor would return the text as it is
            return node.value
        if node.tag == "tag:yaml.org,2002:int" and _DECIMAL.match(node.value):
            return int(node.value, 10)  # YAML 1.2: 010 is ten, not octal eight
        try:
            value = self._scalars.construct_object(node, deep=True)
        except ConstructorError as exc:
            self.problem(_mark(node), f"invalid value: {exc.problem}", path)
            return node.value
        # Dates stay text: the flow model decides what a date means for each field.
        if isinstance(value, dt.date | dt.datetime):
            return node.value
        return value

    def _mapping(self, node: MappingNode, path: Path, in_alias: bool) -> dict:
        own_keys = {id(key) for key, _ in node.value}  # keys merged in with << may be overridden
        self.changed_nodes = self.changed_nodes or any(key.tag in _FLATTENED for key, _ in node.value)
        try:
            self._scalars.flatten_mapping(node)  # resolves YAML merge keys (<<)
        except ConstructorError as exc:
            self.problem(_mark(node), f"invalid merge: {exc.problem}", path)
        result: dict = {}
        first_seen: dict[str, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(_mark(key_node), "mapping keys must be plain text", path)
                continue
            key = self._scalar(key_node, path)
            if not isinstance(key, str):  # 200: or true: as keys mean the text the user wrote
                key = key_node.value
            if key in first_seen and id(key_node) in own_keys:
                line, _ = first_seen[key]
                self.problem(
                    _mark(key_node),
                    f"duplicate key '{key}' (first defined on line {line})",
                    (*path, key),
                )
            elif id(key_node) in own_keys:
                first_seen[key] = _mark(key_node)
            self.positions.keys[(*path, key)] = _mark(key_node)
            result[key] = self.build(value_node, (*path, key), in_alias)
        return result


def dotted_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# The last texts parsed: the editor reads one text several times (its canvas, its form, the next edit on it), and the
# text an edit makes is the one the next edit starts from.
_RECENT: OrderedDict[str, ParsedYaml] = OrderedDict()
_RECENT_LIMIT = 8
_RECENT_LOCK = threading.Lock()


def parse_yaml(text: str, filename: str = "<flow>") -> ParsedYaml:
    """Parse one YAML document; syntax errors come back as problems, never as exceptions.

    A text parsed lately is not parsed again (whatever file name it is read under: the problems are given
    ``filename``); each caller gets its own copy of the data and of the problems (a caller may change them), while
    the positions and the node tree are shared and only read."""
    with _RECENT_LOCK:
        parsed = _RECENT.get(text)
        if parsed is not None:
            _RECENT.move_to_end(text)
    if parsed is None:
        parsed = _parse(text, "<flow>")
        with _RECENT_LOCK:
            _RECENT[text] = parsed
            while len(_RECENT) > _RECENT_LIMIT:
                _RECENT.popitem(last=False)
    problems = [replace(problem, file=filename) for problem in parsed.problems]
    return replace(parsed, data=_copied(parsed.data), problems=problems)


def _copied(value: Any) -> Any:
    """A copy of parsed data (mappings, lists and immutable scalars), far quicker than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if isinstance(value, set):  # !!set
        return set(value)
    return value


def _parse(text: str, filename: str) -> ParsedYaml:
    builder = _Builder(filename)
    if len(text) > MAX_YAML_CHARS:
        message = f"the document is larger than {MAX_YAML_CHARS} characters"
        return ParsedYaml(None, builder.positions, [Problem(1, 1, message, "", filename)], refused=True)
    try:
        loader = _CountingLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except _TooLarge:
        message = f"the document holds more than {MAX_YAML_VALUES} keys and values"
        return ParsedYaml(None, builder.positions, [Problem(1, 1, message, "", filename)], refused=True)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.context and exc.problem:
            message += f" ({exc.context})"
        return ParsedYaml(None, builder.positions, [Problem(line, column, message, "", filename)])
    except yaml.YAMLError as exc:
        return ParsedYaml(None, builder.positions, [Problem(1, 1, f"YAML error: {exc}", "", filename)])
    if node is None:
        return ParsedYaml(
            None,
            builder.positions,
            [Problem(1, 1, "the document is empty", "", filename)],
        )
    try:
        data = builder.build(node, ())
    except _TooLarge:
        return ParsedYaml(None, builder.positions, builder.problems, refused=True)
    return ParsedYaml(data, builder.positions, builder.problems, root=None if builder.changed_nodes else node)
