"""Log lines as the log panels show them, and the filters a panel applies (task, level, text)."""

from __future__ import annotations

from typing import Any

from engine.core.levels import LEVELS

LOG_LEVELS = list(LEVELS)


def log_row(line: Any) -> dict[str, Any]:
    """A stored log line as the log panels show it."""
    return {
        "id": line.id,
        "task_id": line.task_id or "",
        "level": line.level,
        "text": f"{line.timestamp:%H:%M:%S} {line.level:<5} {line.task_id or '-'} {line.message}",
    }


def visible_logs(lines: list[dict[str, Any]], *, task_id: str, level: str, search: str) -> list[dict[str, Any]]:
    """The lines a log panel shows: of one task (or all when empty), at or above ``level`` (or ALL), matching."""
    floor = 0 if level == "ALL" else LOG_LEVELS.index(level)
    needle = search.lower()
    return [
        line
        for line in lines
        if (not task_id or line["task_id"] == task_id)
        and LOG_LEVELS.index(line["level"]) >= floor
        and (not needle or needle in line["text"].lower())
    ]
