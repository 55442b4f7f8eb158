"""The one place the studio turns typed values into the texts its pages show.

The studio services return typed values (datetimes, milliseconds, booleans, mappings); the page states call
these helpers when they turn a service's result into the page's rows, so each kind of value reads the same
on every page."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from engine.core.schedule import minute_utc as engine_minute_utc

NEVER = "never"  # a moment that has not happened and will not (no sign-in yet, no expiry)
NONE = "-"  # a value that is missing (no author, no runs to average)
YES = "yes"  # a flag set; an unset flag shows nothing


def when(value: dt.datetime | None, *, seconds: bool = True, missing: str = "") -> str:
    """A moment as ``YYYY-MM-DD HH:MM:SS`` (or without the seconds), ``missing`` when there is none."""
    if value is None:
        return missing
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def clock(value: dt.datetime) -> str:
    """The time of day of a moment, ``HH:MM:SS`` (a log line's stamp)."""
    return f"{value:%H:%M:%S}"


def minute_utc(value: dt.datetime | None, *, missing: str = "") -> str:
    """A moment in UTC to the minute, saying so: ``YYYY-MM-DD HH:MM UTC`` (a naive moment is taken as UTC), as
    the engine words it in its own messages."""
    return missing if value is None else engine_minute_utc(value)


def wall_clock(value: dt.datetime, timezone: str) -> str:
    """A moment on a named clock, saying which: ``YYYY-MM-DD HH:MM Europe/Paris``."""
    return f"{value.astimezone(zoneinfo.ZoneInfo(timezone)):%Y-%m-%d %H:%M} {timezone}"


def elapsed(millis: int | None) -> str:
    """An execution's duration: ``850 ms``, ``12.5 s``, then ``3 min 4 s`` from two minutes on."""
    if millis is None:
        return ""
    if millis < 1000:
        return f"{millis} ms"
    seconds = millis / 1000
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {int(seconds % 60)} s"


def size(count: int | None) -> str:
    """A file's size: ``812 B``, ``4.2 KB``, ``13.0 MB``, ``1.5 GB`` (powers of 1024, one decimal from KB on)."""
    if count is None:
        return ""
    value, unit = float(count), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"


def node_elapsed(millis: int | None) -> str:
    """A canvas node's task run duration, kept short for the node: ``850 ms`` or ``12.5 s`` (nothing for 0)."""
    if not millis:
        return ""
    return f"{millis} ms" if millis < 1000 else f"{millis / 1000:.1f} s"


def average_seconds(value: float | None) -> str:
    """A statistic in seconds (a task's average or longest run): ``850 ms``, ``12.5 s``, ``3.2 min``, ``-``."""
    if value is None:
        return NONE
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def metric(entry: dict[str, Any]) -> dict[str, str]:
    """A task run's metric (engine/tasks/metrics.py) as a table row: name, tags, kind and its figures in words."""
    tags = ", ".join(f"{key}={value}" for key, value in (entry.get("tags") or {}).items())
    if entry.get("type") == "timer":
        count = entry.get("count", 0)
        total, low, high = (float(entry.get(name, 0)) for name in ("total", "min", "max"))
        value = (
            f"{count} x {average_seconds(total / count if count else 0)} avg, total {average_seconds(total)} "
            f"(min {average_seconds(low)}, max {average_seconds(high)})"
        )
    else:
        value = scalar(entry.get("value"))
    return {"name": str(entry.get("name", "")), "tags": tags, "kind": str(entry.get("type", "")), "value": value}


def yes(flag: bool) -> str:
    """A flag as a table cell: ``yes`` when set, nothing otherwise."""
    return YES if flag else ""


def or_none(text: str | None) -> str:
    """A text that may be missing, ``-`` then."""
    return text or NONE


def labels(values: dict[str, Any] | None) -> str:
    """Labels as ``key:value, key:value``."""
    return ", ".join(f"{k}:{v}" for k, v in (values or {}).items())


def first_line(text: str | None) -> str:
    """The first line of a (description) text, nothing when empty."""
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""


def json_block(value: Any) -> str:
    """A mapping as indented JSON for a panel (nothing becomes ``{}``)."""
    return json.dumps(value or {}, indent=2, default=str)


def json_line(value: Any) -> str:
    """A mapping as one JSON line for a table cell, nothing when empty."""
    return json.dumps(value, default=str) if value else ""


def scalar(value: Any) -> str:
    """A variable's value as typed in YAML: a text as it is, anything else as JSON (``42``, ``true``, ``[1]``)."""
    return value if isinstance(value, str) else json.dumps(value)


def log_text(timestamp: dt.datetime, level: str, task_id: str, message: str) -> str:
    """A log line as the panels show and search it: time, padded level, task (``-`` for none), message."""
    return f"{clock(timestamp)} {level:<5} {task_id or '-'} {message}"


def canvas_node(node: dict[str, Any]) -> dict[str, Any]:
    """A canvas node with its task run's texts: duration, and ``attempt N`` from the second attempt on."""
    attempts = node.get("attempts") or 0
    return {
        **node,
        "duration": node_elapsed(node.get("duration_ms")),
        "attempts": f"attempt {attempts}" if isinstance(attempts, int) and attempts > 1 else "",
    }
