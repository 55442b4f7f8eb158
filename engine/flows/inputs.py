"""Flow inputs: their declarations, and the one function that turns a submitted value into a typed one."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field, field_validator, model_validator

from engine.core.durations import format_duration, parse_duration
from engine.core.errors import InvalidInput
from engine.flows.spec import TASK_ID_PATTERN, Spec


class InputBase(Spec):
    id: Annotated[str, Field(pattern=TASK_ID_PATTERN, max_length=100)]
    """Name of the input; tasks read it as inputs.<id>."""
    description: str | None = None
    """Help shown next to the input when starting the flow."""
    display_name: str | None = None
    """Label shown instead of the id."""
    required: bool = True
    """The flow cannot start without a value."""
    defaults: Any = None
    """Value used when none is given."""

    kind: ClassVar[str] = "STRING"

    def coerce(self, value: Any) -> Any:
        """Return ``value`` as this input's Python type or raise ``ValueError`` saying why."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _defaults_fit_type(self) -> InputBase:
        if self.defaults is not None:
            try:
                self.coerce(self.defaults)
            except ValueError as exc:
                raise ValueError(f"defaults do not fit type {self.kind}: {exc}") from None
        return self


class StringInput(InputBase):
    type: Literal["STRING"]
    validator: str | None = None
    """A regular expression the whole text must match."""
    kind: ClassVar[str] = "STRING"

    @field_validator("validator")
    @classmethod
    def _regex_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"validator is not a valid regular expression: {exc}") from None
        return pattern

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("expected text")
        text = str(value)
        if self.validator and not re.fullmatch(self.validator, text):
            raise ValueError(f"'{text}' does not match {self.validator}")
        return text


class _Bounded(InputBase):
    min: float | None = None
    """Smallest value accepted."""
    max: float | None = None
    """Largest value accepted."""
    _python: ClassVar[type] = float

    @model_validator(mode="after")
    def _min_below_max(self) -> _Bounded:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def coerce(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected a number, got a boolean")
        try:
            number = self._python(value)
        except (TypeError, ValueError):
            raise ValueError(f"'{value}' is not {'an integer' if self._python is int else 'a number'}") from None
        if self._python is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"'{value}' is not an integer")
        if self.min is not None and number < self.min:
            raise ValueError(f"{number} is below the minimum {self.min:g}")
        if self.max is not None and number > self.max:
            raise ValueError(f"{number} is above the maximum {self.max:g}")
        return number


class IntInput(_Bounded):
    type: Literal["INT"]
    kind: ClassVar[str] = "INT"
    _python: ClassVar[type] = int


class FloatInput(_Bounded):
    type: Literal["FLOAT"]
    kind: ClassVar[str] = "FLOAT"
    _python: ClassVar[type] = float


def _iso_text(parse: Callable[[str], dt.date], value: Any, what: str) -> str:
    """``value`` parsed by ``parse`` and written back in ISO form; ``ValueError`` saying it is not ``what``."""
    try:
        return parse(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"'{value}' is not {what}") from None


class BooleanInput(InputBase):
    type: Literal["BOOLEAN"]
    kind: ClassVar[str] = "BOOLEAN"

    def coerce(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"'{value}' is not true or false")


class DateInput(InputBase):
    type: Literal["DATE"]
    kind: ClassVar[str] = "DATE"

    def coerce(self, value: Any) -> str:
        return _iso_text(dt.date.fromisoformat, value, "a date (YYYY-MM-DD)")


class DateTimeInput(InputBase):
    type: Literal["DATETIME"]
    kind: ClassVar[str] = "DATETIME"

    def coerce(self, value: Any) -> str:
        return _iso_text(dt.datetime.fromisoformat, value, "a date-time (ISO-8601, e.g. 2026-01-01T06:00:00Z)")


class DurationInput(InputBase):
    type: Literal["DURATION"]
    kind: ClassVar[str] = "DURATION"

    def coerce(self, value: Any) -> str:
        return format_duration(parse_duration(str(value)))


class SelectInput(InputBase):
    type: Literal["SELECT"]
    values: Annotated[list[str], Field(min_length=1)]
    """The choices offered."""
    allow_custom_value: bool = False
    """Also accept a value that is not among the choices."""
    kind: ClassVar[str] = "SELECT"

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("expected one of the listed values")
        if value not in self.values and not self.allow_custom_value:
            raise ValueError(f"'{value}' is not one of {', '.join(self.values)}")
        return value


class MultiselectInput(InputBase):
    type: Literal["MULTISELECT"]
    values: Annotated[list[str], Field(min_length=1)]
    """The choices offered; several can be picked."""
    allow_custom_value: bool = False
    """Also accept values that are not among the choices."""
    kind: ClassVar[str] = "MULTISELECT"

    def coerce(self, value: Any) -> list[str]:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.startswith("[") else [v for v in value.split(",") if v]
            except json.JSONDecodeError:
                raise ValueError("expected a list of values") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a list of values")
        unknown = [v for v in value if v not in self.values]
        if unknown and not self.allow_custom_value:
            raise ValueError(f"{', '.join(unknown)} not among {', '.join(self.values)}")
        return value


class JsonInput(InputBase):
    type: Literal["JSON"]
    kind: ClassVar[str] = "JSON"

    def coerce(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        return value


class SecretInput(InputBase):
    type: Literal["SECRET"]
    kind: ClassVar[str] = "SECRET"

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("expected text")
        return value


class FileInput(InputBase):
    type: Literal["FILE"]
    kind: ClassVar[str] = "FILE"

    def coerce(self, value: Any) -> str:
        # A FILE input's value is the path of a stored upload; resolve_inputs checks where it is (``uploaded``).
        if not isinstance(value, str) or not value:
            raise ValueError("expected a file reference")
        return value


Input = Annotated[
    StringInput
    | IntInput
    | FloatInput
    | BooleanInput
    | DateInput
    | DateTimeInput
    | DurationInput
    | SelectInput
    | MultiselectInput
    | JsonInput
    | SecretInput
    | FileInput,
    Field(discriminator="type"),
]

# Read off the union so that a new input class is listed without a second edit.
INPUT_TYPES: tuple[str, ...] = tuple(declaration.kind for declaration in get_args(get_args(Input)[0]))


NOT_UPLOADED = "a FILE input must be uploaded (multipart/form-data); a server path is not accepted"


class InputsInvalid(InvalidInput):
    """Inputs given to a flow that break its declarations: ``errors`` maps each bad input to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        self.details = {"inputs": errors}
        super().__init__("; ".join(errors.values()))


def resolve_inputs(
    declared: list[InputBase], given: dict[str, Any], *, uploaded: Callable[[str], str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed input values for an execution, and the errors by input id (empty when all is well).

    A FILE value given (not a flow's own default) names a file on the server, so it is accepted only when
    ``uploaded`` recognises it as a file stored for this flow (engine/workspace/uploads.py) and returns its path;
    without ``uploaded`` no FILE value is accepted. This holds for every way a run starts: API, studio, triggers, CLI.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    known = {decl.id for decl in declared}
    for name in given:
        if name not in known:
            errors[name] = f"unknown input '{name}'"
    for decl in declared:
        raw = given.get(decl.id)
        from_defaults = (raw is None or raw == "") and decl.defaults is not None
        if from_defaults:
            raw = decl.defaults  # which may be "" on purpose: an empty text, not a missing input
        if raw is None or (raw == "" and decl.defaults is None):
            if decl.required:
                errors[decl.id] = f"input '{decl.id}' is required"
            else:
                values[decl.id] = None
            continue
        try:
            value = decl.coerce(raw)
            if decl.kind == "FILE" and not from_defaults:
                if uploaded is None:
                    raise ValueError(NOT_UPLOADED)
                value = uploaded(value)
            values[decl.id] = value
        except ValueError as exc:
            errors[decl.id] = f"input '{decl.id}': {exc}"
    return values, errors
