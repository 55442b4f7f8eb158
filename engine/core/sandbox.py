"""The Jinja sandbox expressions run in, bounded in time and in the size of what they compute.

Jinja's own sandbox stops expressions from reaching Python internals, but not from working forever:
``7 ** 30000000``, ``'a' * 10**9`` or nested loops occupy a worker (or the executor) for minutes and
can take gigabytes. Here every operation that can make something big checks the size of its result
*before* computing it, and a render has a time budget checked at each loop iteration, call, attribute
lookup and piece of output. Both limits come from the environment (see README, Configuration).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import math
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

from engine.config import load_settings
from engine.core.dates import date_add, date_format

#: Integers may hold this many bits (about 30,000 digits): Python needs seconds beyond a few million.
MAX_INT_BITS = 100_000
# Widths and precisions in ``%08.3f`` and in ``{:>8}`` / ``{0:08.3f}``.
_PERCENT_SIZES = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\d*)(?:\.(\d*))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")


class ExpressionLimit(Exception):
    """An expression went past ``LANNER_EXPRESSION_TIMEOUT`` or ``LANNER_EXPRESSION_MAX_SIZE``."""


def timeout() -> float:
    return load_settings().expression_timeout


def max_size() -> int:
    return load_settings().expression_max_size


#: (deadline on time.monotonic(), what ran out when it passes)
_deadline: contextvars.ContextVar[tuple[float, str] | None] = contextvars.ContextVar(
    "expression_deadline", default=None
)


@contextlib.contextmanager
def time_budget(times: int = 1) -> Iterator[None]:
    """``times`` LANNER_EXPRESSION_TIMEOUTs for everything rendered inside, and never beyond an outer budget."""
    seconds = timeout() * times
    budget = (time.monotonic() + seconds, f"took longer than {seconds:g}s")
    outer = _deadline.get()
    token = _deadline.set(budget if outer is None else min(outer, budget))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_time() -> None:
    budget = _deadline.get()
    if budget is not None and time.monotonic() > budget[0]:
        raise ExpressionLimit(f"{budget[1]} (LANNER_EXPRESSION_TIMEOUT={timeout():g}s)")


def _too_big(what: str, size: int) -> ExpressionLimit:
    return ExpressionLimit(
        f"{what} would hold {size:,} items or characters, more than {max_size():,} allowed (LANNER_EXPRESSION_MAX_SIZE)"
    )


def _check_size(what: str, size: int) -> None:
    if size > max_size():
        raise _too_big(what, size)


def size_of(value: Any) -> int:
    """Characters of a text, items of a list (plus the characters of the texts it holds)."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple):
        return len(value) + sum(len(item) for item in value if isinstance(item, str | bytes))
    if isinstance(value, dict | set):
        return len(value)
    return 1


def text_of(value: Any) -> Any:
    """How a value reads inside a text: maps and lists as JSON, true/false, nothing as an empty text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _check_int_bits(operator: str, bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise ExpressionLimit(f"the result of '{operator}' would have about {bits:,} bits, more than {MAX_INT_BITS:,}")


def _check_format(text: str) -> None:
    """Widths and precisions of a format (``%0999999999d``, ``{:>999999999}``) are output sizes."""
    numbers = [n for found in _PERCENT_SIZES.findall(text) for n in found if n]
    numbers += [n for spec in _BRACE_SPEC.findall(text) for n in re.findall(r"\d+", spec)]
    for number in numbers:
        if len(number) > 18 or int(number) > max_size():
            raise _too_big("the formatted text", int(number[:19]))


def _check_binop(operator: str, left: Any, right: Any) -> None:
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and ints and abs(left) > 1 and right > 0:
        _check_int_bits("**", int(right * math.log2(abs(left))) + 1)
    elif operator == "*" and ints:
        _check_int_bits("*", left.bit_length() + right.bit_length())
    elif operator == "*":
        sequence, count = (left, right) if isinstance(right, int) else (right, left)
        if isinstance(count, int) and isinstance(sequence, str | bytes | list | tuple):
            _check_size("the repeated value", size_of(sequence) * max(count, 0))
    elif operator == "+" and not ints and isinstance(left, str | bytes | list | tuple):
        _check_size("the joined value", size_of(left) + size_of(right))
    elif operator == "%" and isinstance(left, str):
        _check_format(left)


def _check_str_method(text: str, name: str, args: tuple, kwargs: dict) -> tuple:
    """Text methods that can make a text much longer than their inputs; returns the arguments to use."""
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        _check_size("the padded text", args[0])
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tab, int):
            _check_size("the expanded text", len(text) * max(tab, 1))
    elif name == "replace" and len(args) >= 2 and isinstance(args[1], str):
        _check_size("the replaced text", _replaced_size(text, *args))
    elif name == "join" and args:
        items = list(_bounded(args[0]))
        _check_size("the joined text", sum(size_of(item) for item in items) + len(text) * len(items))
        return (items, *args[1:])
    return args


def _replaced_size(text: str, old: Any, new: str, count: Any = -1) -> int:
    places = len(text) + 1 if not isinstance(count, int) or count < 0 else min(count, len(text) + 1)
    return len(text) + places * max(len(new) - (len(old) if isinstance(old, str) else 0), 0)


def _bounded(iterable: Iterable[Any]) -> Iterator[Any]:
    for index, item in enumerate(iterable):
        if index % 64 == 0:
            check_time()
        yield item


# --- filters and functions that size their output from an argument ---------------------------------


def _guarded(name: str, original: Any, check: Any) -> Any:
    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check_time()
        check(*args, **kwargs)
        return original(*args, **kwargs)

    guarded.__name__ = name
    return guarded


def _check_center(value: Any, width: Any = 80) -> None:
    if isinstance(width, int):
        _check_size("the centered text", width)


def _check_indent(text: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    pad = width if isinstance(width, int) else len(width) if isinstance(width, str) else 0
    if isinstance(text, str):
        _check_size("the indented text", len(text) + (text.count("\n") + 1) * pad)


def _check_format_filter(value: Any, *_: Any, **__: Any) -> None:
    if isinstance(value, str):
        _check_format(value)


def _check_fill(value: Any, count: Any = 0, fill_with: Any = None) -> None:
    if isinstance(count, int) and fill_with is not None:
        _check_size("the filled list", count)


def _check_replace(eval_ctx: Any, text: Any, old: Any = "", new: Any = "", count: Any = None) -> None:
    if isinstance(text, str) and isinstance(new, str):
        _check_size("the replaced text", _replaced_size(str(text), old, new, -1 if count is None else count))


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    _check_size("the generated text", n * max * 12)  # about 12 characters a word
    return generate_lorem_ipsum(n=n, html=html, min=min, max=max)


class _Bounding(NodeTransformer):
    """Every ``{% for %}`` iterates through ``bounded_iter``, every ``a ~ b`` is ``bounded_concat``.

    As calls they are never folded into constants while compiling, so they always run checked."""

    def __init__(self, environment: BoundedSandbox) -> None:
        self.environment = environment

    def _call(self, name: str, argument: nodes.Expr, lineno: int) -> nodes.Call:
        call = nodes.Call(nodes.EnvironmentAttribute(name), [argument], [], None, None, lineno=lineno)
        return call.set_environment(self.environment)

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = self._call("bounded_iter", node.iter, node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return self._call("bounded_concat", nodes.Tuple(node.nodes, "load", lineno=node.lineno), node.lineno)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self) -> None:
        # Not optimized: constant folding would compute ``{{ 7 ** 30000000 }}`` while compiling, unchecked.
        super().__init__(
            autoescape=False, keep_trailing_newline=True, undefined=StrictUndefined, finalize=text_of, optimized=False
        )
        self.globals["lipsum"] = _lipsum
        self.filters["date_add"] = date_add
        self.filters["date"] = date_format
        guards = {
            "center": _check_center,
            "indent": _check_indent,
            "format": _check_format_filter,
            "batch": _check_fill,
            "slice": _check_fill,
            "replace": _check_replace,
        }
        for name, check in guards.items():
            self.filters[name] = _guarded(name, self.filters[name], check)
        original_join = self.filters["join"]

        @functools.wraps(original_join)
        def join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
            items = list(_bounded(value))
            if attribute is None:  # items read as they do inside a text: JSON, true/false, nothing
                items = [text_of(item) for item in items]
            _check_size("the joined text", sum(size_of(item) for item in items) + len(d) * len(items))
            return original_join(eval_ctx, items, d, attribute)

        self.filters["join"] = join

    # Hooks Jinja's sandbox calls for every operation of sandboxed code.

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        check_time()
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        check_time()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            args = _check_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        check_time()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Any:
        if isinstance(getattr(value, "__self__", None), str):
            _check_format(value.__self__)
        return super().wrap_str_format(value)

    def bounded_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """What every ``{% for %}`` iterates: the time budget is checked as it goes."""
        return _bounded(iterable)

    def bounded_concat(self, values: tuple) -> str:
        """``a ~ b``: the same text forms as ``{{ }}`` output, and a size check before joining."""
        texts = [str(text_of(value)) for value in values]
        _check_size("the joined text", sum(map(len, texts)))
        return "".join(texts)

    def _generate(self, source: nodes.Template, name: Any, filename: Any, defer_init: bool = False) -> str:
        _Bounding(self).visit(source)
        return super()._generate(source, name, filename, defer_init=defer_init)


def render_bounded(template: Any, context: dict[str, Any]) -> str:
    """A template's text, its size checked as each piece is written (within the current time budget)."""
    pieces: list[str] = []
    total, limit = 0, max_size()
    for piece in template.generate(context):
        total += len(piece)
        if total > limit:
            raise _too_big("the text", total)
        check_time()
        pieces.append(piece)
    return "".join(pieces)
