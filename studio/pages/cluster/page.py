"""What the Cluster page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.layout import data_table, fact, page, sidebar
from studio.pages.cluster.state import ANSWERS, ClusterState, ProcessRow, RunLink
from studio.session import ALL_NAMESPACES, SessionState

HEADERS = ("Process", "Host", "PID", "Version", "State", "Task runs", "Last heartbeat", "Started (UTC)", "Metrics")


def _run(run: RunLink) -> rx.Component:
    return rx.link(run.label, href=run.href, size="2", class_name="cluster-run")


def _row(row: rx.Var[ProcessRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge(row.kind, variant="soft")),
        rx.table.cell(row.host),
        rx.table.cell(row.pid, class_name="cluster-pid"),
        rx.table.cell(row.version),
        rx.table.cell(rx.badge(row.state, color_scheme=rx.cond(row.state == "stopping", "amber", "gray"))),
        rx.table.cell(rx.vstack(rx.foreach(row.runs, _run), spacing="1")),
        rx.table.cell(row.last_beat),
        rx.table.cell(row.started),
        rx.table.cell(rx.cond(row.metrics_url != "", rx.link(row.metrics_url, href=row.metrics_url, size="2"), "")),
        class_name="cluster-process",
        custom_attrs={"data-kind": row.kind, "data-pid": row.pid},
    )


def _health(label: str, answer: rx.Var[str], id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.badge(
            rx.cond(answer == ANSWERS, "answers", "unreachable"),
            color_scheme=rx.cond(answer == ANSWERS, "green", "red"),
        ),
        rx.cond(answer != ANSWERS, rx.text(answer, size="1", color_scheme="red")),
        spacing="1",
        id=id,
    )


def _summary() -> rx.Component:
    return rx.hstack(
        _health("Database", ClusterState.database, "cluster-database"),
        _health("Redis", ClusterState.redis, "cluster-redis"),
        fact("Task runs waiting for a worker", ClusterState.queue_depth, id="cluster-queue-depth"),
        rx.vstack(
            rx.text("Metrics of this server", size="1", color_scheme="gray"),
            rx.link(ClusterState.metrics_url, href=ClusterState.metrics_url, size="2", id="cluster-metrics-url"),
            spacing="0",
        ),
        spacing="6",
        wrap="wrap",
    )


def cluster_page() -> rx.Component:
    return page(
        sidebar(SessionState.reachable, ALL_NAMESPACES, SessionState.open_namespace),
        rx.heading("Cluster", size="6"),
        rx.cond(
            ClusterState.refused != "",
            rx.callout(ClusterState.refused, icon="lock", color_scheme="red", id="cluster-refused"),
            rx.vstack(
                rx.text(
                    "Processes alive, from their heartbeats: one silent for "
                    + ClusterState.heartbeat_timeout
                    + " leaves this list. Updated every second.",
                    size="2",
                    color_scheme="gray",
                ),
                _summary(),
                data_table(HEADERS, ClusterState.processes, _row, id="cluster-processes", aria_label="Processes alive"),
                width="100%",
                spacing="4",
            ),
        ),
    )
