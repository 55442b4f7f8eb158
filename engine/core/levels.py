"""Log levels, lowest first: the one definition the worker, the log store, the API, the CLI and the studio use."""

from __future__ import annotations

from enum import StrEnum


class LogLevel(StrEnum):
    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


#: Every level's name, lowest first (the order a minimum level cuts at).
LEVELS: tuple[str, ...] = tuple(level.value for level in LogLevel)


def at_or_above(level: str) -> tuple[str, ...]:
    """The level names a reader asking for ``level`` and up sees (``level`` in any case); a clear error otherwise."""
    wanted = level.upper()
    if wanted not in LEVELS:
        raise ValueError(f"unknown log level {level!r}: use one of {', '.join(LEVELS)}")
    return LEVELS[LEVELS.index(wanted) :]
