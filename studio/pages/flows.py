"""Flows page: every deployed flow of the selected namespace, searchable, with its YAML source."""

import reflex as rx

from studio import services
from studio.components.layout import page, sidebar

ALL = "all namespaces"


class FlowsState(rx.State):
    rows: list[dict[str, str]] = []
    namespaces: list[str] = [ALL]
    namespace: str = ALL
    search: str = ""
    source: str = ""
    opened: str = ""

    @rx.event
    def load(self) -> None:
        self.namespaces = [ALL, *services.namespaces()]
        chosen = None if self.namespace == ALL else self.namespace
        self.rows = [
            {
                "namespace": f.namespace,
                "id": f.flow_id,
                "revision": str(f.revision),
                "description": f.description,
                "updated": f.updated_at,
            }
            for f in services.list_flows(chosen, self.search)
        ]

    @rx.event
    def set_namespace(self, value: str) -> None:
        self.namespace = value
        self.load()

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value
        self.load()

    @rx.event
    def open_flow(self, namespace: str, flow_id: str) -> None:
        self.opened = f"{namespace}/{flow_id}"
        self.source = services.flow_source(namespace, flow_id)


def _row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["namespace"]),
        rx.table.cell(
            rx.hstack(
                rx.link(row["id"], on_click=FlowsState.open_flow(row["namespace"], row["id"]), cursor="pointer"),
                rx.link("edit", href="/flows/" + row["namespace"] + "/" + row["id"], size="1", class_name="edit-link"),
            )
        ),
        rx.table.cell(row["revision"]),
        rx.table.cell(row["description"]),
        rx.table.cell(row["updated"]),
        class_name="flow-row",
    )


def flows_page() -> rx.Component:
    return page(
        sidebar(FlowsState.namespaces, FlowsState.namespace, FlowsState.set_namespace),
        rx.heading("Flows", size="6"),
        rx.input(
            placeholder="Search flows",
            value=FlowsState.search,
            on_change=FlowsState.set_search.debounce(250),
            margin_y="1em",
            width="320px",
            id="flow-search",
        ),
        rx.cond(
            FlowsState.rows.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Namespace", "Flow", "Revision", "Description", "Updated")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(FlowsState.rows, _row)),
                width="100%",
            ),
            rx.callout("No flows yet. Deploy some with: lanner flow deploy examples/", icon="info"),
        ),
        rx.cond(
            FlowsState.opened != "",
            rx.vstack(
                rx.heading(FlowsState.opened, size="4", margin_top="1.5em"),
                rx.code_block(FlowsState.source, language="yaml", width="100%", id="flow-source"),
                width="100%",
            ),
        ),
    )
