"""One execution (placeholder)."""

import reflex as rx

from studio.components.layout import page, sidebar


class ExecutionState(rx.State):
    @rx.event
    def load(self) -> None:
        pass


def execution_page() -> rx.Component:
    return page(
        sidebar(rx.Var.create(["all namespaces"]), "all namespaces", rx.noop), rx.heading("Execution", size="6")
    )
