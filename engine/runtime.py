"""What a task's ``run`` method is given: a way to log, to notice a kill, a working folder, file storage."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


class TaskFailed(Exception):
    """Raised by a task to fail with a message meant for the user (no traceback shown)."""

    def __init__(self, message: str, outputs: dict | None = None) -> None:
        super().__init__(message)
        self.outputs = outputs or {}


class ConfigurationError(TaskFailed):
    """The task cannot work as configured (a secret that is not set, a key that cannot read it): no retry can
    help, so it fails at once whatever its retry policy, saying what to set."""


class TaskKilled(Exception):
    """Raised by a task that stopped because its execution is being killed."""


class TaskTimedOut(Exception):
    pass


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value in it replaced by ``****``.

    Values shorter than 3 characters are left alone: masking every "1" or "a" would make logs unreadable
    and tell more about the secret than it hides.
    """
    for secret in sorted(secrets, key=len, reverse=True):  # a longer secret may contain a shorter one
        if secret and len(secret) >= 3:
            text = text.replace(secret, "****")
    return text


def mask_value(value: Any, secrets: Iterable[str]) -> Any:
    """``mask_text`` applied to every text inside a value (lists and mappings included)."""
    if not secrets:
        return value
    if isinstance(value, str):
        return mask_text(value, secrets)
    if isinstance(value, list):
        return [mask_value(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: mask_value(item, secrets) for key, item in value.items()}
    return value


@dataclass
class LogRecord:
    level: str
    message: str
    timestamp: dt.datetime


@dataclass
class RunContext:
    task_id: str
    execution_id: str
    workdir: Path
    storage: Path
    is_killed: Callable[[], bool]
    deadline: float | None = None  # time.monotonic() limit from the task's timeout
    min_level: str = "TRACE"
    secrets: set[str] = field(default_factory=set)
    records: list[LogRecord] = field(default_factory=list)
    warned: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def log(self, level: str, message: str) -> None:
        level = level.upper()
        level = "WARN" if level == "WARNING" else level if level in LEVELS else "INFO"
        if LEVELS.index(level) < LEVELS.index(self.min_level):
            return
        with self._lock:
            self.records.append(LogRecord(level, self.mask(message), dt.datetime.now(dt.UTC)))

    def warn(self, message: str) -> None:
        """Log a warning and end the task in WARNING instead of SUCCESS."""
        self.warned = True
        self.log("WARN", message)

    def take_records(self) -> list[LogRecord]:
        with self._lock:
            taken, self.records = self.records, []
        return taken

    def mask(self, text: str) -> str:
        return mask_text(text, self.secrets)

    def mask_value(self, value: Any) -> Any:
        """``mask`` applied to every text inside outputs (lists and mappings included)."""
        return mask_value(value, self.secrets)

    def check(self) -> None:
        """Raise if the execution is being killed or the task ran out of time."""
        import time

        if self.is_killed():
            raise TaskKilled("killed")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TaskTimedOut("timed out")

    def remaining(self) -> float | None:
        import time

        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)

    def store_file(self, source: Path, name: str) -> str:
        """Keep a file the task produced; returns the path later tasks read it from."""
        target = self.storage / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return str(target)
