"""Helpers for ``python`` task scripts: emit outputs and log lines that Lanner records.

    from engine.sdk import outputs, log
    outputs({"total": 42})
    log("loaded 42 rows", level="INFO")

Each call prints one marker line on stdout, which the worker reads and removes from the output.
"""

from __future__ import annotations

import json
import sys
from typing import Any

MARKER = "::lanner::"


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(MARKER + json.dumps(payload, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def outputs(values: dict[str, Any]) -> None:
    """Add ``values`` to this task's outputs (later calls add to or replace earlier keys)."""
    for key, value in values.items():  # one line each: the worker reads a line whole only up to a size
        _emit({"outputs": {key: value}})


def log(message: str, level: str = "INFO") -> None:
    _emit({"log": {"level": level.upper(), "message": message}})


def parse_marker(line: str) -> dict[str, Any] | None:
    """The payload of a marker line, or None for an ordinary line of output."""
    if not line.startswith(MARKER):
        return None
    try:
        payload = json.loads(line[len(MARKER) :])
    except json.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None
