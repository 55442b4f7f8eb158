"""Durations as people write them: ``30s``, ``2m``, ``1h30m``, ``500ms``, ``1d`` or ISO-8601 ``PT2M``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_SHORT_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SHORT = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
DURATION_PATTERN = r"^(\d+(\.\d+)?(ms|s|m|h|d|w))+$|^P.+$"


def parse_duration(text: str) -> dt.timedelta:
    """Parse a duration; raise ``ValueError`` with a message meant for a person."""
    value = text.strip()
    if not value:
        raise ValueError("a duration cannot be empty")
    upper = value.upper()
    if upper.startswith("P"):
        match = _ISO.match(upper)
        if not match or upper in ("P", "PT") or upper.endswith("T"):
            raise ValueError(f"'{text}' is not an ISO-8601 duration (for example PT2M or P1DT2H)")
        parts = {k: float(v) for k, v in match.groupdict().items() if v}
        return _timedelta(text, **parts)
    position, seconds = 0, 0.0
    for match in _SHORT.finditer(value):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _SHORT_UNITS[match.group(2)]
        position = match.end()
    if position != len(value) or position == 0:
        raise ValueError(
            f"'{text}' is not a duration: use a number and a unit (ms, s, m, h, d, w) "
            "such as 30s, 2m, 1h30m, or ISO-8601 such as PT2M"
        )
    return _timedelta(text, seconds=seconds)


def _timedelta(text: str, **parts: float) -> dt.timedelta:
    try:
        return dt.timedelta(**parts)
    except OverflowError:  # past 999,999,999 days: a ValueError like any other wrong duration, not a crash
        raise ValueError(f"'{text}' is too long a duration") from None


def format_duration(value: dt.timedelta) -> str:
    """Short form of a duration, e.g. ``1h30m`` or ``250ms``."""
    total_ms = round(value.total_seconds() * 1000)
    if total_ms == 0:
        return "0s"
    out, rest = "", total_ms
    for unit, size in (
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ):
        count, rest = divmod(rest, size)
        if count:
            out += f"{count}{unit}"
    return out


def _coerce(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration must be text such as 30s or PT2M")
    if isinstance(value, int | float):
        return dt.timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("a duration must be text such as 30s or PT2M")


Duration = Annotated[
    dt.timedelta,
    BeforeValidator(_coerce),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "format": "duration",
            "pattern": DURATION_PATTERN,
            "examples": ["30s", "PT2M"],
        }
    ),
]
