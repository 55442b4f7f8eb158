"""Expressions: ``{{ ... }}`` templates, parsed and rendered in a Jinja sandbox."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

sandbox = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


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
