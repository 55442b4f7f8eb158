"""What the executions page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.empty_state import empty_state
from studio.components.layout import error_and_notice, page, sidebar
from studio.components.state_badge import state_badge
from studio.pages.executions.state import COLUMNS, ExecutionsState


def _header(column: str, label: str) -> rx.Component:
    arrow = rx.cond(ExecutionsState.sort == column, rx.cond(ExecutionsState.descending, " ↓", " ↑"), "")
    return rx.table.column_header_cell(
        rx.link(label + arrow, on_click=ExecutionsState.sort_by(column), cursor="pointer", id=f"sort-{column}")
    )


def _row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=ExecutionsState.picked.contains(row["id"]),
                on_change=lambda picked: ExecutionsState.toggle(row["id"], picked),
                class_name="pick",
                aria_label="Select execution " + row["short"],
            )
        ),
        rx.table.cell(rx.link(row["short"], href="/executions/" + row["id"], class_name="execution-link")),
        rx.table.cell(row["created"]),
        rx.table.cell(row["namespace"] + "/" + row["flow"]),
        rx.table.cell(state_badge(row["state"], class_name="state-badge")),
        rx.table.cell(row["duration"]),
        rx.table.cell(row["trigger"]),
        rx.table.cell(row["labels"]),
        class_name="execution-row",
        custom_attrs={"data-state": row["state"], "data-id": row["id"]},
    )


def _filters() -> rx.Component:
    def text_filter(name: str, placeholder: str, width: str, label: str, **props) -> rx.Component:
        return rx.input(
            placeholder=placeholder,
            aria_label=label,
            value=getattr(ExecutionsState, name),
            on_change=lambda v: ExecutionsState.set_filter(name, v).debounce(300),
            width=width,
            name=name,
            **props,
        )

    return rx.hstack(
        rx.select(
            ExecutionsState.namespaces,
            value=ExecutionsState.namespace,
            on_change=lambda v: ExecutionsState.set_filter("namespace", v),
            name="namespace",
            custom_attrs={"aria-label": "Namespace"},
        ),
        text_filter("flow_id", "flow id", "140px", "Flow id"),
        rx.select(
            ExecutionsState.states,
            value=ExecutionsState.state,
            on_change=lambda v: ExecutionsState.set_filter("state", v),
            name="state",
            id="state-filter",
            custom_attrs={"aria-label": "State"},
        ),
        text_filter("labels", "labels key:value, ...", "180px", "Labels"),
        text_filter("text", "id or flow contains", "160px", "Id or flow contains"),
        rx.text("from", size="1"),
        text_filter("day_from", "", "140px", "From day", type="date"),
        rx.text("to", size="1"),
        text_filter("day_to", "", "140px", "To day", type="date"),
        wrap="wrap",
        align="center",
        width="100%",
    )


def _bulk_bar() -> rx.Component:
    return rx.hstack(
        rx.text(ExecutionsState.picked.length().to(str) + " selected", size="2"),
        rx.cond(
            ExecutionsState.may["kill"],
            rx.button(
                "Kill",
                on_click=ExecutionsState.bulk("kill"),
                size="1",
                color_scheme="red",
                variant="soft",
                id="bulk-kill",
            ),
        ),
        rx.cond(
            ExecutionsState.may["restart"],
            rx.button("Restart", on_click=ExecutionsState.bulk("restart"), size="1", variant="soft", id="bulk-restart"),
        ),
        rx.cond(
            ExecutionsState.may["delete"],
            rx.button(
                "Delete", on_click=ExecutionsState.bulk("delete"), size="1", color_scheme="red", id="bulk-delete"
            ),
        ),
        rx.spacer(),
        rx.text(ExecutionsState.total.to(str) + " executions", size="2", id="executions-total"),
        rx.button(
            "Previous",
            on_click=ExecutionsState.go_to(ExecutionsState.page_number - 1),
            size="1",
            variant="soft",
            id="page-prev",
        ),
        rx.text(ExecutionsState.page_number.to(str) + " / " + ExecutionsState.pages.to(str), size="2", id="page-of"),
        rx.button(
            "Next",
            on_click=ExecutionsState.go_to(ExecutionsState.page_number + 1),
            size="1",
            variant="soft",
            id="page-next",
        ),
        width="100%",
        align="center",
        margin_y="0.5em",
    )


def executions_page() -> rx.Component:
    return page(
        sidebar(
            ExecutionsState.namespaces, ExecutionsState.namespace, lambda v: ExecutionsState.set_filter("namespace", v)
        ),
        rx.heading("Executions", size="6"),
        _filters(),
        *error_and_notice(ExecutionsState.error, ExecutionsState.notice, "executions"),
        _bulk_bar(),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(
                        rx.checkbox(
                            checked=(ExecutionsState.picked.length() > 0)
                            & (ExecutionsState.picked.length() == ExecutionsState.rows.length()),
                            on_change=ExecutionsState.toggle_all,
                            id="pick-all",
                            aria_label="Select all executions",
                        )
                    ),
                    rx.table.column_header_cell("Execution"),
                    *[_header(column, label) for column, label in COLUMNS[:2]],
                    _header("state", "State"),
                    _header("duration", "Duration"),
                    rx.table.column_header_cell("Trigger"),
                    rx.table.column_header_cell("Labels"),
                )
            ),
            rx.table.body(rx.foreach(ExecutionsState.rows, _row)),
            width="100%",
        ),
        rx.cond(
            ExecutionsState.total == 0,
            empty_state(
                "list-checks",
                "No executions to show",
                "An execution is one run of a flow: press Run in a flow's editor or on the Flows page, or let a "
                "trigger start it. With filters set above, loosen them to see more.",
                rx.link(
                    rx.button(rx.icon("workflow", size=14), "Open the flows"), href="/flows", id="empty-open-flows"
                ),
                id="executions-empty",
            ),
        ),
    )
