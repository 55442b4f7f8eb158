"""Read-only code (a flow's YAML, outputs as JSON): highlighted in colours readable in the light and dark theme.

Reflex's default code themes (one-light, one-dark) draw some tokens under the 4.5:1 contrast small text needs;
the Coldark themes (made for WCAG contrast) keep every token readable, in both."""

from __future__ import annotations

import reflex as rx
from reflex_components_code.code import Theme


def code_view(text: rx.Var[str] | str, **props) -> rx.Component:
    return rx.code_block(text, theme=rx.color_mode_cond(light=Theme.coldark_cold, dark=Theme.coldark_dark), **props)
