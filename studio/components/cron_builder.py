"""Cron in plain words next to a cron field, and a builder for the common patterns that writes the expression.

The words and the patterns are ``studio.services.cron_words``'; the state driving the builder is the page's (it
knows which field the built expression goes to): it has the fields read below and the events named below."""

from typing import Any

import reflex as rx

from studio.components.layout import labelled
from studio.services.cron_words import DAYS, PATTERNS

# A native select (labels tie to it by id), in the theme's colours.
_SELECT_STYLE = {
    "fontSize": "12px",
    "padding": "2px",
    "background": "var(--color-panel-solid)",
    "color": "var(--gray-12)",
    "border": "1px solid var(--gray-7)",
    "borderRadius": "4px",
}


def _line(icon: str, text: rx.Var[str], color: str, class_name: str, props: dict[str, Any]) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=12, color=color, flex_shrink="0", aria_hidden="true"),
        rx.text(text, size="1", color=color),
        spacing="1",
        align="center",
        class_name=class_name,
        **props,
    )


def cron_words(words: rx.Var[str], error: rx.Var[str] | None = None, **props: Any) -> rx.Component:
    """The expression in words, or why it is not one (in red): beside the field it explains."""
    shown = rx.cond(words != "", _line("clock", words, "var(--gray-11)", "cron-words", props))
    if error is None:
        return shown
    return rx.cond(error != "", _line("triangle-alert", error, "var(--red-11)", "cron-error", props), shown)


def _input(state: Any, name: str, label: str, placeholder: str, **props: Any) -> rx.Component:
    field_id = f"cron-builder-{name}"
    return labelled(
        label,
        field_id,
        rx.input(
            value=getattr(state, f"builder_{name}"),
            on_change=lambda v: state.set_builder_field(name, v),
            placeholder=placeholder,
            size="1",
            id=field_id,
            name=field_id,
            **props,
        ),
    )


def cron_builder(state: Any) -> rx.Component:
    """Pick a pattern, fill in its blanks, see the expression and its words, and use it.

    ``state`` has ``builder_pattern``, ``builder_every``, ``builder_minute``, ``builder_time``, ``builder_day``,
    ``builder_day_of_month``, ``built``, ``built_words``, ``built_error``, and the events
    ``set_builder_field(name, value)`` and ``use_built``."""
    needs = {p.key: p.needs for p in PATTERNS}

    def shown_for(field: str) -> rx.Var[bool]:
        keys = [key for key, fields in needs.items() if field in fields]
        condition = state.builder_pattern == keys[0]
        for key in keys[1:]:
            condition = condition | (state.builder_pattern == key)
        return condition

    return rx.vstack(
        labelled(
            "Repeat",
            "cron-builder-pattern",
            rx.el.select(
                *[rx.el.option(p.label, value=p.key) for p in PATTERNS],
                value=state.builder_pattern,
                on_change=lambda v: state.set_builder_field("pattern", v),
                id="cron-builder-pattern",
                name="cron-builder-pattern",
                style=_SELECT_STYLE,
            ),
        ),
        rx.hstack(
            rx.cond(shown_for("every"), _input(state, "every", "Every (minutes)", "15", input_mode="numeric")),
            rx.cond(shown_for("minute"), _input(state, "minute", "At minute", "0", input_mode="numeric")),
            rx.cond(
                shown_for("day"),
                labelled(
                    "Day",
                    "cron-builder-day",
                    rx.el.select(
                        *[rx.el.option(day, value=day) for day in DAYS],
                        value=state.builder_day,
                        on_change=lambda v: state.set_builder_field("day", v),
                        id="cron-builder-day",
                        name="cron-builder-day",
                        style=_SELECT_STYLE,
                    ),
                ),
            ),
            rx.cond(
                shown_for("day_of_month"), _input(state, "day_of_month", "Day of month", "1", input_mode="numeric")
            ),
            rx.cond(shown_for("time"), _input(state, "time", "At (HH:MM)", "09:00")),
            spacing="2",
            wrap="wrap",
        ),
        rx.hstack(
            rx.code(rx.cond(state.built != "", state.built, "…"), id="cron-builder-expression", size="1"),
            rx.button(
                "Use this schedule",
                size="1",
                on_click=state.use_built,
                disabled=state.built == "",
                id="cron-builder-use",
            ),
            spacing="2",
            align="center",
        ),
        cron_words(state.built_words, state.built_error, id="cron-builder-words"),
        spacing="2",
        width="100%",
        padding="0.5em",
        border="1px solid var(--gray-5)",
        border_radius="6px",
        id="cron-builder",
    )
