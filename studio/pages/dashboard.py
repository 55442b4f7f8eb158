"""Dashboard: run history charts (placeholder until the dashboard lands)."""

import reflex as rx

from studio.components.layout import page, sidebar


class DashboardState(rx.State):
    @rx.event
    def load(self) -> None:
        pass


def dashboard_page() -> rx.Component:
    return page(
        sidebar(rx.Var.create(["all namespaces"]), "all namespaces", rx.noop), rx.heading("Dashboard", size="6")
    )
