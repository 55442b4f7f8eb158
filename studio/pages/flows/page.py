"""What the flows page shows: its components (the state they read is in state.py)."""

import reflex as rx

from studio.components.code_view import code_view
from studio.components.empty_state import flows_empty_state
from studio.components.file_drop import label_file_input
from studio.components.layout import callout_if, confirmed_danger_button, data_table, page, sidebar
from studio.pages.flows.actions import FlowActionsState
from studio.pages.flows.actions_view import deleted_list, duplicate_dialog, list_actions, row_actions, started_notice
from studio.pages.flows.state import FlowRow, FlowsState


def _row(row: rx.Var[FlowRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.namespace),
        rx.table.cell(
            rx.hstack(
                rx.link(row.id, on_click=FlowsState.open_flow(row.namespace, row.id), cursor="pointer"),
                rx.link("edit", href="/flows/" + row.namespace + "/" + row.id, size="1", class_name="edit-link"),
            )
        ),
        rx.table.cell(row.revision),
        rx.table.cell(row.description),
        rx.table.cell(row.updated),
        rx.table.cell(row_actions(row)),
        rx.table.cell(
            rx.cond(
                row.editable,
                confirmed_danger_button(
                    "Delete",
                    "Delete the flow " + row.namespace + "/" + row.id + "? Its revisions and executions are kept.",
                    FlowsState.delete_flow(row.namespace, row.id),
                    class_name="delete-flow",
                ),
            )
        ),
        class_name="flow-row",
    )


def _create_controls(prefix: str = "", button_id: str = "create-flow", labels: bool = False) -> rx.Component:
    """New flow and Import: only for people who may edit flows somewhere. The toolbar's names its fields for screen
    readers; the empty page's (``prefix="empty-"``) shows the labels, for someone who has never made a flow."""

    def field(name: str, label: str, example: str, width: str, value: rx.Var, on_change) -> list[rx.Component]:
        field_id = f"{prefix}{name}"
        shown = [rx.el.label(label, html_for=field_id, style={"fontSize": "13px"})] if labels else []
        control = rx.input(
            placeholder=example if labels else label.lower(),
            value=value,
            on_change=on_change,
            id=field_id,
            name=field_id,
            width=width,
            aria_label=f"{label} of the new flow",
        )
        return [*shown, control]

    upload_id = f"{prefix}import-upload"
    return rx.hstack(
        *field(
            "new-namespace",
            "Namespace",
            "e.g. acme.sales",
            "180px",
            FlowsState.new_namespace,
            FlowsState.set_new_namespace,
        ),
        *field("new-id", "Flow id", "e.g. daily_report", "160px", FlowsState.new_id, FlowsState.set_new_id),
        rx.button(rx.icon("plus", size=14), "New flow", on_click=FlowsState.create_flow, id=button_id),
        label_file_input(
            rx.upload.root(
                rx.button(rx.icon("upload", size=14), "Import YAML", variant="soft", type="button"),
                id=upload_id,
                accept={"application/x-yaml": [".yml", ".yaml"], "text/yaml": [".yml", ".yaml"]},
                multiple=True,
                no_drag=False,
                on_drop=FlowsState.import_files(rx.upload_files(upload_id=upload_id)),
                border="none",
                padding="0",
            ),
            "Flow YAML files to import",
        ),
        spacing="2",
        wrap="wrap",
        align="center",
    )


def flows_page() -> rx.Component:
    return page(
        sidebar(FlowsState.namespaces, FlowsState.namespace, FlowsState.set_namespace),
        rx.heading("Flows", size="6"),
        rx.hstack(
            rx.input(
                placeholder="Search flows and their YAML",
                value=FlowsState.search,
                on_change=FlowsState.set_search.debounce(250),
                width="280px",
                id="flow-search",
                aria_label="Search flows by id, namespace, description or YAML text",
            ),
            list_actions(),
            rx.spacer(),
            rx.cond(FlowsState.can_create, _create_controls()),
            width="100%",
            margin_y="1em",
            wrap="wrap",  # at 1280 px the create controls go to a line of their own rather than over the buttons
            row_gap="0.5em",
        ),
        callout_if(FlowsState.error, "flows-error", color_scheme="red", white_space="pre-wrap"),
        rx.cond(FlowActionsState.started == "", callout_if(FlowsState.notice, "flows-notice", color_scheme="green")),
        started_notice(),
        deleted_list(),
        duplicate_dialog(),
        rx.cond(
            FlowsState.rows.length() > 0,
            data_table(
                ("Namespace", "Flow", "Revision", "Description", "Updated", "Actions", ""), FlowsState.rows, _row
            ),
            flows_empty_state(FlowsState, _create_controls("empty-", "empty-new-flow", labels=True)),
        ),
        rx.cond(
            FlowsState.opened != "",
            rx.vstack(
                rx.heading(FlowsState.opened, size="4", margin_top="1.5em"),
                code_view(FlowsState.source, language="yaml", width="100%", id="flow-source"),
                width="100%",
            ),
        ),
    )
