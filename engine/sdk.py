"""Helpers for ``python`` task scripts: emit outputs, log lines and metrics that Lanner records.

    from engine.sdk import counter, log, outputs, timed, timer
    outputs({"total": 42})
    log("loaded 42 rows", level="INFO")
    counter("rows", 42, table="sales")     # counters add up over the task run
    timer("download", 1.25)                # timers keep count, total, min and max (seconds)
    with timed("transform"):               # times the block
        ...

Each call prints one marker line on stdout, which the worker reads and removes from the output.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def counter(name: str, value: float = 1, **tags: Any) -> None:
    """Add ``value`` to the counter ``name`` (with ``tags``, e.g. ``table="sales"``, kept apart by tag values)."""
    _emit({"metric": {"type": "counter", "name": name, "value": value, "tags": tags}})


def timer(name: str, seconds: float, **tags: Any) -> None:
    """Record one duration of ``seconds`` under the timer ``name``."""
    _emit({"metric": {"type": "timer", "name": name, "value": seconds, "tags": tags}})


@contextmanager
def timed(name: str, **tags: Any) -> Iterator[None]:
    """Time the ``with`` block under the timer ``name`` (recorded even when the block raises)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timer(name, time.perf_counter() - start, **tags)


def parse_marker(line: str) -> dict[str, Any] | None:
    """The payload of a marker line, or None for an ordinary line of output."""
    if not line.startswith(MARKER):
        return None
    try:
        payload = json.loads(line[len(MARKER) :])
    except json.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None
