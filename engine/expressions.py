"""Expressions: ``{{ ... }}`` templates, parsed and rendered in a Jinja sandbox.

A string that is exactly one ``{{ expression }}`` renders to the expression's own value (a number
stays a number, a map stays a map); any other template renders to text, where maps and lists read as
JSON, booleans as true/false and nothing as an empty text. Expressions are bounded in time and size
(engine/sandbox.py). An undefined name or a failing expression
raises ``ExpressionError`` naming the expression: never a silent empty string.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.sandbox import SecurityError

from engine.sandbox import BoundedSandbox, ExpressionLimit, render_bounded, time_budget

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


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


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
    if isinstance(value, str):
        return render_text(value, context)
    if isinstance(value, list):
        return [_render(item, context) for item in value]
    if isinstance(value, dict):
        return {key: _render(item, context) for key, item in value.items()}
    return value


def truthy(value: Any) -> bool:
    """Conditions: real booleans, and the texts people write for them."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no", "off", "none", "null")
    return bool(value)
