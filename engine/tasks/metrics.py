"""Metrics a task run reports through the SDK (``engine.sdk.counter``/``timer``): counters add up, timers keep
count, total, min and max. Kept per task run and per attempt as a list of plain JSON entries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MAX_METRICS = 200  # distinct (name, tags) pairs per task run: a script looping over ids must not fill the database
MAX_NAME_CHARS = 200


@dataclass
class Metrics:
    """The metrics of one attempt, by (kind, name, tags)."""

    entries: dict[tuple[str, str, tuple[tuple[str, str], ...]], dict[str, Any]] = field(default_factory=dict)

    def record(self, payload: dict[str, Any]) -> str | None:
        """Add one reported value; returns why it was ignored, or None."""
        kind, name, value = payload.get("type"), payload.get("name"), payload.get("value")
        if kind not in ("counter", "timer"):
            return f"metric type must be counter or timer, not {kind!r}"
        if not isinstance(name, str) or not name or len(name) > MAX_NAME_CHARS:
            return f"metric name must be a text of 1 to {MAX_NAME_CHARS} characters"
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return f"metric '{name}' needs a number, not {value!r}"
        if kind == "timer" and value < 0:
            return f"timer '{name}' needs a duration of 0 seconds or more, not {value!r}"
        tags = payload.get("tags") or {}
        if not isinstance(tags, dict):
            return f"metric '{name}' tags must be a mapping"
        key = (kind, name, tuple(sorted((str(k), str(v)) for k, v in tags.items())))
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= MAX_METRICS:
                return f"metric '{name}' ignored: a task run keeps at most {MAX_METRICS} metrics"
            entry = self.entries[key] = {"type": kind, "name": name, "tags": dict(key[2])}
            if kind == "counter":
                entry["value"] = 0
            else:
                entry.update(count=0, total=0.0, min=value, max=value)
        if kind == "counter":
            entry["value"] += value
        else:
            entry.update(
                count=entry["count"] + 1,
                total=entry["total"] + value,
                min=min(entry["min"], value),
                max=max(entry["max"], value),
            )
        return None

    def as_list(self) -> list[dict[str, Any]]:
        """The entries sorted by name, type and tags: the JSON kept with the task run."""
        return [self.entries[key] for key in sorted(self.entries, key=lambda k: (k[1], k[0], k[2]))]
