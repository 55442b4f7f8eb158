"""What the Flows list shows of its actions (the state is actions.py): a row's Run, Duplicate and Export, the
namespace export, the duplicate dialog and the recently deleted flows."""

import reflex as rx

from studio.components.layout import data_table
from studio.pages.flows.actions import DeletedRow, FlowActionsState
from studio.pages.flows.state import FlowRow, FlowsState


def row_actions(row: rx.Var[FlowRow]) -> rx.Component:
    return rx.hstack(
        rx.cond(
            row.runnable,
            rx.button(
                rx.icon("play", size=12),
                "Run",
                size="1",
                variant="soft",
                color_scheme="green",
                on_click=FlowActionsState.run_flow(row.namespace, row.id),
                class_name="run-flow",
            ),
        ),
        rx.cond(
            FlowsState.can_create,
            rx.button(
                "Duplicate",
                size="1",
                variant="soft",
                on_click=FlowActionsState.open_duplicate(row.namespace, row.id),
                class_name="duplicate-flow",
            ),
        ),
        rx.button(
            rx.icon("download", size=12),
            "YAML",
            size="1",
            variant="soft",
            color_scheme="gray",
            on_click=FlowActionsState.export_flow(row.namespace, row.id),
            class_name="export-flow",
            aria_label="Export " + row.namespace + "/" + row.id + " as YAML",
        ),
        spacing="1",
    )


def list_actions() -> rx.Component:
    """Beside the search: export what the list shows as a zip, and (for editors) the recently deleted flows."""
    return rx.hstack(
        rx.button(
            rx.icon("archive", size=14),
            "Export zip",
            variant="soft",
            color_scheme="gray",
            on_click=FlowActionsState.export_namespace,
            id="export-namespace",
        ),
        rx.cond(
            FlowsState.can_create,
            rx.button(
                rx.icon("trash-2", size=14),
                rx.cond(FlowActionsState.show_deleted, "Hide deleted", "Recently deleted"),
                variant="soft",
                color_scheme="gray",
                on_click=FlowActionsState.toggle_deleted,
                id="recently-deleted",
            ),
        ),
        spacing="2",
    )


def started_notice() -> rx.Component:
    return rx.cond(
        FlowActionsState.started != "",
        rx.callout(
            rx.text(
                FlowsState.notice + " — ",
                rx.link("follow the execution", href="/executions/" + FlowActionsState.started, id="started-link"),
            ),
            icon="play",
            color_scheme="green",
            id="run-started",
        ),
    )


def _deleted_row(row: rx.Var[DeletedRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.namespace),
        rx.table.cell(row.id),
        rx.table.cell(row.deleted),
        rx.table.cell(
            rx.button(
                rx.icon("undo-2", size=12),
                "Restore",
                size="1",
                variant="soft",
                on_click=FlowActionsState.restore(row.namespace, row.id),
                class_name="restore-flow",
            )
        ),
        class_name="deleted-row",
    )


def deleted_list() -> rx.Component:
    return rx.cond(
        FlowActionsState.show_deleted,
        rx.vstack(
            rx.heading("Recently deleted", size="4"),
            rx.cond(
                FlowActionsState.deleted_rows.length() > 0,
                data_table(("Namespace", "Flow", "Deleted", ""), FlowActionsState.deleted_rows, _deleted_row),
                rx.text("No deleted flows you may restore.", size="2", color_scheme="gray"),
            ),
            width="100%",
            margin_bottom="1.5em",
            id="deleted-flows",
        ),
    )


def _field(label: str, field_id: str, value: rx.Var[str], on_change) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=field_id, style={"font_size": "var(--font-size-2)", "font_weight": "bold"}),
        rx.input(value=value, on_change=on_change, id=field_id, width="100%"),
        spacing="1",
        width="100%",
    )


def duplicate_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Duplicate " + FlowActionsState.duplicate_of),
            rx.dialog.description("A copy with a new id, in this namespace or another you may edit.", size="2"),
            rx.vstack(
                _field(
                    "Namespace",
                    "duplicate-namespace",
                    FlowActionsState.duplicate_namespace,
                    FlowActionsState.set_duplicate_namespace,
                ),
                _field("New flow id", "duplicate-id", FlowActionsState.duplicate_id, FlowActionsState.set_duplicate_id),
                rx.cond(
                    FlowActionsState.duplicate_error != "",
                    rx.text(FlowActionsState.duplicate_error, color_scheme="red", size="2", id="duplicate-error"),
                ),
                rx.hstack(
                    rx.button("Cancel", on_click=FlowActionsState.close_duplicate, variant="soft"),
                    rx.button("Duplicate", on_click=FlowActionsState.duplicate, id="confirm-duplicate"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
        ),
        open=FlowActionsState.duplicate_open,
        on_open_change=lambda _: FlowActionsState.close_duplicate(),
    )
