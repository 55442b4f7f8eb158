"""Log lines as the services hand them to the log panels (which filter and word them: ``studio.components.logs``)."""

from __future__ import annotations

from typing import Any

from engine.core.levels import LEVELS

LOG_LEVELS = list(LEVELS)


def log_row(line: Any) -> dict[str, Any]:
    """A stored log line, typed; the log panels turn it into their text (``LogLine.of``, ``studio.display``)."""
    return {
        "id": line.id,
        "task_id": line.task_id or "",
        "level": line.level,
        "timestamp": line.timestamp,
        "message": line.message,
    }
