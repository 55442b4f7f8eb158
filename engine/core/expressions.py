"""Expressions: ``{{ ... }}`` templates, parsed and rendered in a Jinja sandbox.

A string that is exactly one ``{{ expression }}`` renders to the expression's own value (a number
stays a number, a map stays a map); any other template renders to text, where maps and lists read as
JSON, booleans as true/false and nothing as an empty text. Expressions are bounded in time and size
(engine/core/sandbox.py). An undefined name or a failing expression
raises ``ExpressionError`` naming the expression: never a silent empty string.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.sandbox import SecurityError

from engine.core.sandbox import BoundedSandbox, ExpressionLimit, render_bounded, time_budget

sandbox = BoundedSandbox()
_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.S)


class ExpressionError(ValueError):
    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"{reason} in expression {expression!r}")


@dataclass(frozen=True)
class ExpressionProblem:
    line_offset: int  # 0 for the first line of the text
    message: str


@dataclass(frozen=True)
class Reference:
    """A name an expression reads, e.g. ``inputs.day`` -> ("inputs", "day")."""

    root: str
    name: str
    line_offset: int

    @property
    def pattern(self) -> str:
        """Where it is written in the text (a regular expression), to point at its column."""
        root, name = re.escape(self.root), re.escape(self.name)
        return rf"\b{root}\s*(?:\.\s*{name}\b|\[\s*['\"]{name}['\"])"


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


@dataclass(frozen=True)
class UnknownName:
    """A filter, test or function the sandbox does not have, e.g. ``| jq``, ``is null``, ``json(...)``."""

    kind: str  # "filter", "test" or "function"
    name: str
    line_offset: int

    @property
    def message(self) -> str:
        known = {"filter": sandbox.filters, "test": sandbox.tests, "function": [*sandbox.globals, *CONTEXT_FUNCTIONS]}
        close = difflib.get_close_matches(self.name, sorted(known[self.kind]), n=1, cutoff=0.7)
        guess = _LOOKALIKES.get((self.kind, self.name)) or (close[0] if close else None)
        hint = f" (did you mean '{guess}'?)" if guess else ""
        return f"unknown {self.kind} '{self.name}'{hint}"

    @property
    def pattern(self) -> str:
        """Where it is written in the text (a regular expression; its group ``at`` is the column)."""
        name = re.escape(self.name)
        return {
            "filter": rf"\|\s*(?P<at>{name})\b",
            "test": rf"\bis\s+(?:not\s+)?(?P<at>{name})\b",
            "function": rf"\b(?P<at>{name})\s*\(",
        }[self.kind]


#: What people write from other template languages, and the name it has here.
_LOOKALIKES = {("test", "null"): "none", ("test", "nil"): "none", ("filter", "json"): "tojson"}
#: Functions expressions are given besides the sandbox's own (engine/core/progress.py context_for).
CONTEXT_FUNCTIONS = ("secret", "kv")
#: Names Jinja itself gives callables to inside some blocks.
_BLOCK_FUNCTIONS = ("caller", "loop", "super", "self", "varargs", "kwargs")


def unknown_names(tree: nodes.Template) -> list[UnknownName]:
    """Filters, tests and functions used in ``tree`` that do not exist (they would fail at run time)."""
    defined = {macro.name for macro in tree.find_all(nodes.Macro)}
    defined |= {name.name for name in tree.find_all(nodes.Name) if name.ctx in ("store", "param")}
    found: list[UnknownName] = []
    for node in tree.find_all((nodes.Filter, nodes.Test, nodes.Call)):
        line_offset = (node.lineno or 1) - 1
        if isinstance(node, nodes.Filter) and node.name not in sandbox.filters:
            found.append(UnknownName("filter", node.name, line_offset))
        elif isinstance(node, nodes.Test) and node.name not in sandbox.tests:
            found.append(UnknownName("test", node.name, line_offset))
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
            name = node.node.name
            if name not in sandbox.globals and name not in (*CONTEXT_FUNCTIONS, *_BLOCK_FUNCTIONS, *defined):
                found.append(UnknownName("function", name, line_offset))
    return found


def parse_template(text: str) -> tuple[nodes.Template | None, ExpressionProblem | None]:
    try:
        return sandbox.parse(text), None
    except TemplateSyntaxError as exc:
        return None, ExpressionProblem((exc.lineno or 1) - 1, f"invalid expression: {exc.message}")


def references(tree: nodes.Template, roots: tuple[str, ...] = ("inputs", "outputs", "vars")) -> list[Reference]:
    """Top-level names read under ``roots`` (``inputs.x``, ``outputs['t']``, ``vars.y``)."""
    found: list[Reference] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name in roots):
            continue
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            name = node.arg.value
        else:
            continue
        found.append(Reference(target.name, name, (node.lineno or 1) - 1))
    return found


@functools.lru_cache(maxsize=4096)
def _names_loaded(text: str) -> frozenset[str]:
    tree, _ = parse_template(text)  # a text that does not parse fails when rendered, reading nothing
    return frozenset(node.name for node in tree.find_all(nodes.Name) if node.ctx == "load") if tree else frozenset()


def reads_name(value: Any, name: str) -> bool:
    """Whether an expression inside ``value`` (lists and mappings included) can read the context's ``name``, e.g.
    ``vars``: the only way to reach it is to write it (``vars.x``, ``vars['x']``, ``vars | tojson``)."""
    if isinstance(value, str):
        return is_template(value) and name in _names_loaded(value)
    if isinstance(value, list):
        return any(reads_name(item, name) for item in value)
    if isinstance(value, dict):
        return any(reads_name(item, name) for item in value.values())
    return False


@functools.lru_cache(maxsize=4096)
def _compiled_expression(expression: str):
    return sandbox.compile_expression(expression, undefined_to_none=False)


@functools.lru_cache(maxsize=4096)
def _compiled_template(text: str):
    return sandbox.from_string(text)


def render_text(text: str, context: dict[str, Any]) -> Any:
    if not is_template(text):
        return text
    single = _SINGLE.match(text)
    try:
        with time_budget():
            if single:
                value = _compiled_expression(single.group("expr").strip())(**context)
                if isinstance(value, Undefined):
                    value._fail_with_undefined_error()
                return value
            return render_bounded(_compiled_template(text), context)
    except ExpressionLimit as exc:
        raise ExpressionError(text.strip(), str(exc)) from None
    except SecurityError as exc:
        raise ExpressionError(text.strip(), f"not allowed: {exc}") from None
    except TemplateError as exc:
        raise ExpressionError(text.strip(), exc.message or type(exc).__name__) from None
    except Exception as exc:
        raise ExpressionError(text.strip(), f"{type(exc).__name__}: {exc}") from None


def render(value: Any, context: dict[str, Any]) -> Any:
    """Render every string inside ``value`` (lists and mappings included), within one time budget."""
    with time_budget():
        return _render(value, context)


def _render(value: Any, context: dict[str, Any]) -> Any:
    return map_texts(value, lambda text: render_text(text, context))


def map_texts(value: Any, change: Callable[[str], Any]) -> Any:
    """``value`` with ``change`` applied to every text inside it (lists and mappings included), the rest kept."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_texts(item, change) for item in value]
    if isinstance(value, dict):
        return {key: map_texts(item, change) for key, item in value.items()}
    return value


def truthy(value: Any) -> bool:
    """Conditions: real booleans, and the texts people write for them."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no", "off", "none", "null")
    return bool(value)
