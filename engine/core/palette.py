"""The colour of every state and log level: one table for the studio's Python charts and its JSX canvas.

Python reads the tables directly; the browser gets them as CSS variables (``css_variables()``, injected by
the studio as a stylesheet) that ``assets/flow_canvas.jsx`` uses as ``var(--lanner-state-<state>)``, so a
state looks the same on the canvas, the Gantt chart and the dashboard.
"""

from __future__ import annotations

from engine.core.levels import LogLevel
from engine.core.states import State

STATE_COLOURS: dict[State, str] = {
    State.CREATED: "#94a3b8",
    State.QUEUED: "#94a3b8",
    State.RUNNING: "#3b82f6",
    State.PAUSED: "#0ea5e9",
    State.RETRYING: "#a855f7",
    State.SUCCESS: "#16a34a",
    State.WARNING: "#d97706",
    State.FAILED: "#dc2626",
    State.KILLING: "#525252",
    State.KILLED: "#525252",
    State.CANCELLED: "#737373",
    State.SKIPPED: "#a3a3a3",
}
#: The same colours by name, for widgets drawn from a named scale (the studio's state badges: Radix Themes'
#: colour scales, which keep their contrast in the light and the dark theme).
STATE_COLOUR_NAMES: dict[State, str] = {
    State.CREATED: "gray",
    State.QUEUED: "gray",
    State.RUNNING: "blue",
    State.PAUSED: "sky",
    State.RETRYING: "purple",
    State.SUCCESS: "green",
    State.WARNING: "amber",
    State.FAILED: "red",
    State.KILLING: "gray",
    State.KILLED: "gray",
    State.CANCELLED: "gray",
    State.SKIPPED: "gray",
}
#: What a state no table knows is named.
OTHER_COLOUR_NAME = "indigo"
LEVEL_COLOURS: dict[LogLevel, str] = {
    LogLevel.TRACE: "#cbd5e1",
    LogLevel.DEBUG: "#94a3b8",
    LogLevel.INFO: "#3b82f6",
    LogLevel.WARN: "#d97706",
    LogLevel.ERROR: "#dc2626",
}
#: Charts of things without a state (durations) are drawn in the accent colour.
ACCENT_COLOUR = "#6366f1"
#: What a value no table knows (an execution without a state, a newer state an older studio receives) is drawn in.
OTHER_COLOUR = ACCENT_COLOUR


def state_colour(state: str) -> str:
    return STATE_COLOURS.get(state, OTHER_COLOUR)  # type: ignore[call-overload]  # a StrEnum key matches its str


def state_colour_name(state: str) -> str:
    return STATE_COLOUR_NAMES.get(state, OTHER_COLOUR_NAME)  # type: ignore[call-overload]


def level_colour(level: str) -> str:
    return LEVEL_COLOURS.get(level, OTHER_COLOUR)  # type: ignore[call-overload]


def css_variable(state: str) -> str:
    """The CSS custom property holding ``state``'s colour (the JSX spells the same name)."""
    return f"--lanner-state-{state.lower()}"


def css_variables() -> str:
    """A stylesheet putting every state and level colour on ``:root`` for the browser."""
    lines = [f"  {css_variable(state)}: {colour};" for state, colour in STATE_COLOURS.items()]
    lines += [f"  --lanner-level-{level.lower()}: {colour};" for level, colour in LEVEL_COLOURS.items()]
    lines.append(f"  --lanner-state-other: {OTHER_COLOUR};")
    return ":root {\n" + "\n".join(lines) + "\n}\n"
