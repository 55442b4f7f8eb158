"""The theme switch of the sidebar's account box: light, dark or the system's preference, remembered per person.

The browser keeps the mode in localStorage (Reflex applies it before the first paint); the person's choice is also
saved server side (``studio/services/preferences.py``) and applied by every signed-in page's load, so it follows
them to a new browser.
"""

from __future__ import annotations

import reflex as rx

from studio.components.events import text
from studio.services import preferences
from studio.session import SessionState


class ThemeState(SessionState):
    saved_theme: str = ""  # "" until the page's load read it

    @rx.event
    def load(self):
        """On every signed-in page's load, after ``SessionState.enter``: the person's saved theme."""
        if self.signed_in_as:
            self.saved_theme = preferences.theme(self.principal())

    @rx.event
    def choose(self, theme: str):
        preferences.set_theme(self.principal(), theme)
        self.saved_theme = theme


class ThemeSwitch(rx.Component):
    library = "$/public/theme_switch.jsx"
    tag = "ThemeSwitch"

    saved: rx.Var[str]
    on_choose: rx.EventHandler[text]


def theme_switch() -> rx.Component:
    return ThemeSwitch.create(saved=ThemeState.saved_theme, on_choose=ThemeState.choose)
