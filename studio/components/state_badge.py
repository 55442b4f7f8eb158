"""A state as a badge coloured by the state (green SUCCESS, red FAILED...), the same everywhere it shows."""

from __future__ import annotations

import reflex as rx

from engine.core.palette import OTHER_COLOUR_NAME, STATE_COLOUR_NAMES


def state_colour_scheme(state: rx.Var[str]) -> rx.Var[str]:
    """The Radix colour scale of ``state`` (engine/core/palette.py names one per state)."""
    cases = [(str(name), colour) for name, colour in STATE_COLOUR_NAMES.items()]
    return rx.match(state, *cases, OTHER_COLOUR_NAME)


def state_badge(state: rx.Var[str], **props) -> rx.Component:
    """``state`` on a badge of its colour; ``data-state`` names it for tests and styles."""
    return rx.badge(
        state, color_scheme=state_colour_scheme(state), high_contrast=True, custom_attrs={"data-state": state}, **props
    )
