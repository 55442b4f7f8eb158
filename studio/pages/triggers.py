"""Triggers page: every trigger, its next and last fire, enable switch, backfill (placeholder)."""

import reflex as rx

from studio.components.layout import page, sidebar


class TriggersState(rx.State):
    @rx.event
    def load(self) -> None:
        pass


def triggers_page() -> rx.Component:
    return page(sidebar(rx.Var.create(["all namespaces"]), "all namespaces", rx.noop), rx.heading("Triggers", size="6"))
