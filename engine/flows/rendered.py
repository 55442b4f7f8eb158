"""Fitting rendered properties back into a task's model.

A whole expression (``"{{ x }}"`` alone) keeps its value's type, so a property that takes text may get
a number, true/false or nothing: those read as they would inside a text. A map or a list where text is
expected is the flow's mistake, and the message says which property and what the expression gave.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from engine.core.sandbox import text_of
from engine.flows.spec import RENDERED

#: What a property expects, by pydantic's error type.
EXPECTS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a map",
}


class RenderedMismatch(ValueError):
    """Rendered properties that do not fit the task's model; the message names each one."""


def kind_of(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def fit(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """``model`` validated from rendered ``data``; scalars where text is expected become text."""
    try:
        return model.model_validate(data, context=RENDERED)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    as_text = [e for e in errors if e["type"] == "string_type" and _scalar(e["input"])]
    if as_text:
        for error in as_text:
            data = _replaced(data, error["loc"], str(text_of(error["input"])))
        try:
            return model.model_validate(data, context=RENDERED)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
    raise RenderedMismatch(_explain(errors, data)) from None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float)


def _replaced(data: Any, loc: tuple, value: Any) -> Any:
    """``data`` with ``value`` at ``loc`` (pydantic's union member names in ``loc`` are skipped)."""
    if not loc:
        return value
    head, rest = loc[0], loc[1:]
    if isinstance(data, dict) and head in data:
        return {**data, head: _replaced(data[head], rest, value)}
    if isinstance(data, list) and isinstance(head, int) and 0 <= head < len(data):
        return [*data[:head], _replaced(data[head], rest, value), *data[head + 1 :]]
    return _replaced(data, rest, value) if rest else value


def _explain(errors: list[dict], data: dict[str, Any]) -> str:
    """One message per property: what it expects and what the expression gave, when that is the problem."""
    by_place: dict[tuple, list[dict]] = {}
    for error in errors:
        by_place.setdefault(_place(data, error["loc"]), []).append(error)
    messages = []
    for place, found in by_place.items():
        value = _at(data, place)
        if place and all(e["type"] in EXPECTS and e["input"] == value for e in found):
            expected = " or ".join(dict.fromkeys(EXPECTS[e["type"]] for e in found))
            name = ".".join(map(str, place))
            messages.append(f"property '{name}' expects {expected} but the expression gave {kind_of(value)}")
        else:
            messages += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in found]
    return "; ".join(messages)


def _place(data: Any, loc: tuple) -> tuple:
    """The part of ``loc`` that names places in ``data`` (without pydantic's union member names)."""
    place: list[Any] = []
    for part in loc:
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        ):
            place.append(part)
            data = data[part]
    return tuple(place)


def _at(data: Any, place: tuple) -> Any:
    for part in place:
        data = data[part]
    return data
