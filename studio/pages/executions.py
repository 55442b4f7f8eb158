"""Executions list (placeholder)."""

import reflex as rx

from studio.components.layout import page, sidebar


class ExecutionsState(rx.State):
    @rx.event
    def load(self) -> None:
        pass


def executions_page() -> rx.Component:
    return page(
        sidebar(rx.Var.create(["all namespaces"]), "all namespaces", rx.noop), rx.heading("Executions", size="6")
    )
