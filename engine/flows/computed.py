"""Control properties people compute: a task's timeout, retry, disabled and allowFailure, a group's concurrency,
a subflow's wait, a pause's delay.

The flow keeps ``"{{ ... }}"`` as written (``Computed`` in engine/flows/spec.py) and checks every literal when it is
loaded. The process that acts on a property (mostly the executor, through engine/core/progress.py) asks ``resolve``
for it: a literal comes back as it is; an expression is rendered in the sandbox with the execution's context and
checked against the property's own type, so a wrong value is a ``ComputedInvalid`` naming the property.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, create_model

from engine.core.expressions import ExpressionError, is_template, render
from engine.flows.rendered import RenderedMismatch, fit
from engine.flows.spec import Spec


class ComputedInvalid(ValueError):
    """A computed property whose expression fails or gives a value its type refuses; the message names it."""


def holds_expression(value: Any) -> bool:
    """Whether ``value`` (a property, possibly a model such as a retry policy) has an expression left to render."""
    if isinstance(value, str):
        return is_template(value)
    if isinstance(value, BaseModel):
        return any(holds_expression(getattr(value, name)) for name in type(value).model_fields)
    if isinstance(value, dict):
        return any(holds_expression(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(holds_expression(v) for v in value)
    return False


def resolve(owner: BaseModel, name: str, context: Callable[[], dict[str, Any]]) -> Any:
    """Property ``name`` of ``owner`` (a task, a flow), rendered with ``context()`` when it holds an expression."""
    value = getattr(owner, name)
    if not holds_expression(value):
        return value
    model = _single_property_model(type(owner), name)
    alias = model.model_fields[name].alias or name
    written = value.model_dump(mode="json", by_alias=True, exclude_none=True) if isinstance(value, BaseModel) else value
    try:
        rendered = render(written, context())
    except ExpressionError as exc:
        raise ComputedInvalid(f"property '{alias}': {exc}") from None
    try:
        return getattr(fit(model, {alias: rendered}), name)
    except RenderedMismatch as exc:
        # the message names the property (and the place inside it), as for a worker's rendered task
        raise ComputedInvalid(f"after rendering, {exc}") from None


@functools.cache
def _single_property_model(owner: type[BaseModel], name: str) -> type[BaseModel]:
    """A model with only ``owner``'s property ``name`` (its type, constraints and alias): rendered values of that
    property are checked by it, with the same messages as a worker's rendered task (engine/flows/rendered.py)."""
    field = owner.model_fields[name]
    return create_model(  # type: ignore[call-overload]
        f"{owner.__name__}Computed{name.title().replace('_', '')}",
        __base__=Spec,
        **{name: (field.rebuild_annotation(), None)},
    )
