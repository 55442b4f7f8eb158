"""What the dashboard page shows: its components (the state they read is in state.py)."""

from typing import Any

import reflex as rx

from studio.components.layout import choice_button, data_table, page, sidebar
from studio.pages.dashboard.state import ALL, ALL_FLOWS, DashboardState
from studio.services import history


def _kpi(label: str, key: str, element_id: str, detail: rx.Var | str = "", size: str = "6") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.text(getattr(DashboardState.kpis, key), size=size, weight="bold", class_name="kpi-value"),
            rx.text(detail, size="1", color_scheme="gray"),
            spacing="1",
        ),
        id=element_id,
        flex="1",
        min_width="150px",
    )


def _window_button(kind: str) -> rx.Component:
    chosen = DashboardState.window == kind
    return choice_button(history.WINDOWS[kind], chosen, DashboardState.set_window(kind), f"window-{kind}")


def _filters() -> rx.Component:
    return rx.hstack(
        rx.hstack(*[_window_button(kind) for kind in history.WINDOWS], spacing="1"),
        rx.cond(
            DashboardState.window == "custom",
            rx.hstack(
                rx.input(
                    type="date",
                    value=DashboardState.start,
                    on_change=DashboardState.set_start,
                    id="date-from",
                    aria_label="From day",
                ),
                rx.text("to", size="2"),
                rx.input(
                    type="date",
                    value=DashboardState.end,
                    on_change=DashboardState.set_end,
                    id="date-to",
                    aria_label="To day",
                ),
                align="center",
            ),
        ),
        rx.spacer(),
        rx.text("Flow", size="2"),
        rx.select(
            DashboardState.flows,
            value=DashboardState.flow,
            on_change=DashboardState.set_flow,
            id="flow-select",
            custom_attrs={"aria-label": "Flow"},
        ),
        width="100%",
        align="center",
        margin_y="1em",
        wrap="wrap",
    )


def _chart(title: str, figure: rx.Var, element_id: str, on_click: Any = None, basic: bool = True) -> rx.Component:
    # The basic plotly.js bundle (bar, scatter) is much lighter than the full one; boxes need "cartesian".
    make = rx.plotly.basic if basic else rx.plotly.cartesian
    props = {"on_click": on_click} if on_click is not None else {}
    return rx.card(
        rx.text(title, weight="bold", size="2"),
        make(data=figure, id=element_id, config={"displaylogo": False}, style={"width": "100%"}, **props),
        width="100%",
        min_width="0",
    )


def _table(title: str, rows: rx.Var, element_id: str) -> rx.Component:
    headers = ("Namespace", "Flow", "Task", "Runs", "Failures", "Average", "Max")
    return rx.card(
        rx.text(title, weight="bold", size="2"),
        rx.cond(
            rows.length() > 0,
            data_table(
                headers,
                rows,
                lambda row: rx.table.row(
                    *[
                        rx.table.cell(getattr(row, key))
                        for key in ("namespace", "flow", "task", "runs", "failures", "avg", "max")
                    ],
                    class_name="task-row",
                ),
                size="1",
            ),
            rx.text("No task runs in this window.", size="2", color_scheme="gray"),
        ),
        id=element_id,
        width="100%",
        min_width="0",
    )


def dashboard_page() -> rx.Component:
    chosen = DashboardState.flow != ALL_FLOWS
    scope = rx.cond(chosen, "this flow", rx.cond(DashboardState.namespace == ALL, "all flows", "the namespace"))
    return page(
        sidebar(DashboardState.namespaces, DashboardState.namespace, DashboardState.set_namespace),
        rx.hstack(
            rx.heading("Dashboard", size="6"),
            rx.text(DashboardState.first_day + " → " + DashboardState.last_day + " (UTC)", size="2", id="window-days"),
            align="baseline",
            spacing="4",
        ),
        _filters(),
        rx.hstack(
            _kpi("Runs today", "runs_today", "kpi-runs-today"),
            _kpi("Success", "success", "kpi-success", DashboardState.kpis.success_detail),
            _kpi("Failures", "failures", "kpi-failures"),
            _kpi("Running now", "running", "kpi-running"),
            _kpi("Next scheduled run", "next", "kpi-next", size="4"),
            width="100%",
            wrap="wrap",
        ),
        rx.grid(
            _chart("Executions per day", DashboardState.per_day, "chart-per-day", DashboardState.open_day),
            _chart("Duration of each run", DashboardState.durations, "chart-durations", DashboardState.open_execution),
            rx.cond(
                chosen,
                _chart("Task durations (min · p50 · p95 · max)", DashboardState.tasks, "chart-tasks", basic=False),
            ),
            _chart("Log lines per day", DashboardState.logs, "chart-logs", DashboardState.open_log_day),
            _table(rx.Var.create("Slowest tasks of ") + scope, DashboardState.slowest, "slowest-tasks"),
            _table(rx.Var.create("Most failing tasks of ") + scope, DashboardState.failing, "failing-tasks"),
            columns="2",
            spacing="4",
            width="100%",
            margin_top="1em",
        ),
    )
