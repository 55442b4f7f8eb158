"""Log panels' pieces shared by the editor and the execution page: a line, the filters, and what they let through."""

from dataclasses import dataclass
from typing import Any

import reflex as rx

from engine.core.levels import LEVELS, LogLevel, at_or_above
from studio import display

ALL_LEVELS = "ALL"


@dataclass
class LogLine:
    """A log line as a panel shows it."""

    id: int
    task_id: str  # "" for the execution's own lines
    level: str
    text: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> "LogLine":
        """A row of the studio services (``services.log_row``), worded as the panels show and search it."""
        text = display.log_text(row["timestamp"], row["level"], row["task_id"], row["message"])
        return cls(id=row["id"], task_id=row["task_id"], level=row["level"], text=text)


def visible_lines(lines: list[LogLine], *, task_id: str, level: str, search: str) -> list[LogLine]:
    """The lines a panel shows: of one task (or all when empty), at or above ``level`` (or ALL), matching."""
    shown = set(LEVELS if level == ALL_LEVELS else at_or_above(level))
    needle = search.lower()
    return [
        line
        for line in lines
        if (not task_id or line.task_id == task_id)
        and line.level in shown
        and (not needle or needle in line.text.lower())
    ]


class LogPanelState(rx.State, mixin=True):
    """The lines of the execution followed (the newest ``keep_lines``), the panel's filters, the position read."""

    log_lines: list[LogLine] = []
    log_level: str = ALL_LEVELS
    log_search: str = ""
    _log_position: int = 0

    @rx.event
    def set_log_level(self, value: str) -> None:
        self.log_level = value

    @rx.event
    def set_log_search(self, value: str) -> None:
        self.log_search = value

    def _add_lines(self, rows: list[LogLine], keep: int) -> None:
        """The rows past the position read, appended; only the newest ``keep`` lines stay in the state."""
        fresh = [row for row in rows if row.id > self._log_position]
        if fresh:
            self._log_position = fresh[-1].id
            self.log_lines = (self.log_lines + fresh)[-keep:]

    def _shown_lines(self, task_id: str) -> list[LogLine]:
        return visible_lines(self.log_lines, task_id=task_id, level=self.log_level, search=self.log_search)


def log_line(line: rx.Var[LogLine]) -> rx.Component:
    return rx.text(line.text, white_space="pre-wrap", font_family="monospace", size="1", class_name="log-line")


def log_box(lines: rx.Var[list[LogLine]], max_height: str) -> rx.Component:
    """The lines, scrolling within ``max_height``."""
    return rx.box(rx.foreach(lines, log_line), max_height=max_height, overflow_y="auto", width="100%", id="log-panel")


def log_filters(level, on_level, search, on_search, shown) -> rx.Component:
    """The level select, the search box (typing settles for 200 ms before filtering) and the count shown."""
    return rx.fragment(
        rx.select(
            [ALL_LEVELS, *at_or_above(LogLevel.DEBUG)],
            value=level,
            on_change=on_level,
            size="1",
            name="log-level",
            custom_attrs={"aria-label": "Log level"},
        ),
        rx.input(
            placeholder="Search the logs",
            value=search,
            on_change=on_search.debounce(200),
            size="1",
            id="log-search",
            aria_label="Search the logs",
        ),
        rx.text(shown.length().to(str) + " lines", size="1", color_scheme="gray"),
    )
