"""Task defaults (Kestra's pluginDefaults): property values set once for a task type or a family of types.

A flow's ``taskDefaults`` are applied by the loader to its raw data before validation, so every task is checked
and run with them, while the YAML text stays as written. A namespace's defaults (stored per namespace, inherited
by child namespaces) are applied by the worker to the task it runs, for what the task and its flow left unset:
the loader cannot see them. Both use ``apply_defaults`` on plain data, so they behave the same.

Rules: ``type`` is a task type (``postgresql.query``) or a prefix ending with a dot (``postgresql.``); the most
specific default wins (an exact type over a prefix, a longer prefix over a shorter one). A value fills a property
the task does not set; mappings are merged key by key, the task's own keys winning. ``forced: true`` overrides
the task. A prefix default only gives a type the properties that type has (``fetch`` is not forced on a load).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import field_validator

from engine.flows.spec import Spec

if TYPE_CHECKING:  # a type only: the flow model (which the store imports) must not load the YAML reader
    from engine.flows.yaml_source import Path

# engine.tasks imports the flow model, which holds TaskDefault: the registry and the tree walker are read late.

#: Properties a default may never set: they say which task it is.
NOT_DEFAULTABLE = frozenset({"id", "type"})


class TaskDefault(Spec):
    """Property values given to every task of a type, or of a family of types, that does not set them."""

    type: str
    """A task type (postgresql.query) or a prefix ending with a dot (postgresql.) for every type of a family."""
    values: dict[str, Any]
    """The properties, as written in a task (camelCase keys), e.g. url: "{{ secret('SHOP_DSN') }}"."""
    forced: bool = False
    """Override what the task sets itself instead of only filling what it leaves out."""

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if not matching_types(value):
            from engine.tasks.base import registry

            close = registry.suggest(value.rstrip("."))
            hint = f" (did you mean '{close}'?)" if close else ""
            raise ValueError(f"'{value}' is no task type and no prefix of one (a prefix ends with a dot){hint}")
        return value

    @field_validator("values")
    @classmethod
    def _no_identity(cls, value: dict[str, Any]) -> dict[str, Any]:
        refused = sorted(NOT_DEFAULTABLE & set(value))
        if refused:
            raise ValueError(f"a default cannot set {', '.join(refused)}")
        return value


TaskDefaults = list[TaskDefault]


def matching_types(pattern: str) -> list[str]:
    """The registered task types a default's ``type`` applies to."""
    from engine.tasks.base import registry

    if pattern.endswith("."):
        return [name for name in registry.names() if name.startswith(pattern)]
    return [pattern] if registry.get(pattern) else []


def _properties(type_name: str) -> set[str]:
    from engine.tasks.base import registry

    model = registry.get(type_name)
    return {f.alias or n for n, f in model.model_fields.items()} if model else set()


def _specificity(pattern: str) -> tuple[int, int]:
    return (0 if pattern.endswith(".") else 1, len(pattern))


def _fill(target: dict, key: str, value: Any, forced: bool, origin: Path, origins: dict[Path, Path], at: Path) -> None:
    """Put ``value`` under ``key`` unless the target keeps its own; mappings merge key by key."""
    mine = target.get(key)
    if isinstance(mine, dict) and isinstance(value, dict):
        for inner_key, inner_value in value.items():
            _fill(mine, inner_key, inner_value, forced, (*origin, inner_key), origins, (*at, key))
        return
    if key in target and not forced:
        return
    target[key] = copy.deepcopy(value)
    origins[(*at, key)] = origin


def apply_defaults(
    task: dict, defaults: list[tuple[Path, dict]], at: Path = (), origins: dict[Path, Path] | None = None
) -> dict[Path, Path]:
    """Apply ``defaults`` (each ``(its path in the YAML, {type, values, forced})``) to one task's data, in place.

    Returns (and fills ``origins``) where each filled property came from: task path -> default value path."""
    origins = {} if origins is None else origins
    type_name = task.get("type")
    if not isinstance(type_name, str):
        return origins
    known = _properties(type_name)
    ranked = [
        (path, d)
        for path, d in defaults
        if isinstance(d.get("type"), str)
        and isinstance(d.get("values"), dict)
        and (d["type"] == type_name or (d["type"].endswith(".") and type_name.startswith(d["type"])))
    ]
    # Filling: most specific first, so it fills before a broader one. Forcing: broadest first, most specific last.
    ranked.sort(key=lambda item: _specificity(item[1]["type"]), reverse=True)
    for forced_pass in (False, True):
        order = ranked if not forced_pass else list(reversed(ranked))
        for path, default in order:
            if bool(default.get("forced")) is not forced_pass:
                continue
            exact = default["type"] == type_name
            for key, value in default["values"].items():
                if key in NOT_DEFAULTABLE or (not exact and key not in known):
                    continue
                _fill(task, key, value, forced_pass, (*path, "values", key), origins, at)
    return origins


def apply_flow_defaults(data: dict) -> tuple[dict, dict[Path, Path]]:
    """A copy of a flow's raw data with its ``taskDefaults`` applied to every task at any depth, and where each
    filled property came from (so a problem in it is reported at the default). ``data`` itself is not changed."""
    raw = data.get("taskDefaults")
    if not isinstance(raw, list) or not raw:
        return data, {}
    defaults = [(("taskDefaults", index), d) for index, d in enumerate(raw) if isinstance(d, dict)]
    from engine.flows.tree import walk

    applied = copy.deepcopy(data)
    origins: dict[Path, Path] = {}
    for placed in list(walk(applied)):
        path = (*placed.within.path, placed.index)
        apply_defaults(placed.task, defaults, path, origins)
    return applied, origins


def unused_keys(defaults: list[dict]) -> list[tuple[int, str]]:
    """Keys of prefix defaults no matching type has: (default index, key), reported as unknown properties."""
    found = []
    for index, default in enumerate(defaults):
        if not isinstance(default, dict) or not isinstance(default.get("values"), dict):
            continue
        pattern = default.get("type")
        if not isinstance(pattern, str) or not pattern.endswith("."):
            continue
        types = matching_types(pattern)
        if not types:
            continue
        known = set().union(*(_properties(t) for t in types))
        found += [(index, key) for key in default["values"] if key not in known and key not in NOT_DEFAULTABLE]
    return found


def origin_of(path: Path, origins: dict[Path, Path]) -> Path | None:
    """The default's path a problem at ``path`` (in the applied data) comes from, or None for the task's own."""
    for end in range(len(path), 0, -1):
        origin = origins.get(path[:end])
        if origin is not None:
            return (*origin, *path[end:])
    return None


def value_problems(default: dict) -> list[tuple[str, str]]:
    """``(key, message)`` for each value of a default no type it applies to accepts (a namespace's defaults are
    saved without a task to validate them with): an unknown property of an exact type, a value of the wrong type."""
    from pydantic import TypeAdapter, ValidationError

    from engine.tasks.base import registry

    pattern, values = default.get("type"), default.get("values")
    if not isinstance(pattern, str) or not isinstance(values, dict):
        return []
    found: list[tuple[str, str]] = []
    for key, value in values.items():
        for type_name in matching_types(pattern):
            model = registry.get(type_name)
            field = next((f for n, f in model.model_fields.items() if (f.alias or n) == key), None)
            if field is None:
                if not pattern.endswith("."):
                    found.append((key, f"unknown property '{key}' of {type_name}"))
                continue
            annotation = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            try:
                TypeAdapter(annotation).validate_python(value)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                found.append((key, f"{key}: {first['msg'].removeprefix('Value error, ')} (for {type_name})"))
                break
    return found
