"""Shared pieces of the flow language's pydantic models."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WrapSerializer, WrapValidator
from pydantic.alias_generators import to_camel

FLOW_ID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$"
NAMESPACE_PATTERN = r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$"
TASK_ID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"

FlowId = Annotated[str, Field(pattern=FLOW_ID_PATTERN, max_length=100)]
NamespaceName = Annotated[str, Field(pattern=NAMESPACE_PATTERN, max_length=150)]
TaskId = Annotated[str, Field(pattern=TASK_ID_PATTERN, max_length=100)]
WORKER_GROUP_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


def _group_key(value: Any) -> Any:
    """``workerGroup: gpu``, or Kestra's ``workerGroup: {key: gpu}``: the group's name either way."""
    if isinstance(value, dict):
        if set(value) != {"key"}:
            unknown = sorted(set(value) - {"key"})
            raise ValueError(f"unknown property '{unknown[0]}'" if unknown else "missing required property 'key'")
        return value["key"]
    return value


WorkerGroupName = Annotated[str, Field(pattern=WORKER_GROUP_PATTERN, max_length=64)]
WorkerGroup = Annotated[WorkerGroupName, BeforeValidator(_group_key)]
"""The worker group task runs go to (``lanner worker --group NAME`` serves it): a name (lowercase letters, digits,
``-`` and ``_``), written as is or as ``{key: NAME}``."""

T = TypeVar("T")


RENDERED = {"rendered": True}
"""Validation context for values already rendered: an expression left in one is a wrong value, not one to keep."""


def _expression_as_written(value: Any, handler: Any, info: Any) -> Any:
    rendered = isinstance(info.context, dict) and info.context.get("rendered")
    return value if not rendered and isinstance(value, str) and "{{" in value else handler(value)


def _expression_kept(value: Any, handler: Any) -> Any:
    return value if isinstance(value, str) and "{{" in value else handler(value)


Computed = Annotated[T, WrapValidator(_expression_as_written), WrapSerializer(_expression_kept)]
"""A property people may compute: ``"{{ ... }}"`` is kept as written when the flow is loaded (a literal is checked
then), and checked against the type once rendered: by the worker for the task it runs, by the executor for a
subflow's target and for control properties such as retry, allowFailure or concurrency (engine/flows/computed.py).
Validated with the ``RENDERED`` context, an expression is no longer kept. Its JSON Schema stays the type's own,
so the studio's form for it does not change."""


class Spec(BaseModel):
    """Base of every model read from flow YAML: camelCase keys, unknown keys refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_enum_values=False,
        # An attribute's docstring becomes its JSON Schema description: the studio shows it as the field's help.
        use_attribute_docstrings=True,
    )
