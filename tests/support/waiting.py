"""Waiting for what a process does a moment later."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

Found = TypeVar("Found")


def wait_until(check: Callable[[], Found], seconds: float, what: str) -> Found:
    """The first truthy answer of ``check`` (asked every 50 ms); ``AssertionError(what)`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(what)
