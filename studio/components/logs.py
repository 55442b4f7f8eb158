"""Log panels' pieces shared by the editor and the execution page: a line, and the level and search filters."""

import reflex as rx

from engine.core.levels import LogLevel, at_or_above


def log_line(line: dict) -> rx.Component:
    return rx.text(
        line["text"].to(str), white_space="pre-wrap", font_family="monospace", size="1", class_name="log-line"
    )


def log_filters(level, on_level, search, on_search, shown) -> rx.Component:
    """The level select, the search box (typing settles for 200 ms before filtering) and the count shown."""
    return rx.fragment(
        rx.select(["ALL", *at_or_above(LogLevel.DEBUG)], value=level, on_change=on_level, size="1", name="log-level"),
        rx.input(
            placeholder="Search the logs", value=search, on_change=on_search.debounce(200), size="1", id="log-search"
        ),
        rx.text(shown.length().to(str) + " lines", size="1", color_scheme="gray"),
    )
