"""The editor's run dialog (one widget per input type) and the log drawer of the run followed."""

import reflex as rx

from studio.components.code_view import code_view
from studio.components.editor_layout import drawer_splitter
from studio.components.file_drop import file_drop
from studio.components.logs import log_box, log_filters
from studio.components.output_files import files_panel
from studio.pages.editor.layout_state import EditorLayout
from studio.pages.editor.run import RunInput, RunState
from studio.pages.editor.state import EditorState


def _field_id(input_id: rx.Var[str]) -> rx.Var[str]:
    """The id of an input's widget, which its label names (``for``)."""
    return "run-input-" + input_id


def _input_widget(item: rx.Var[RunInput]) -> rx.Component:
    input_id = item.id
    value = RunState.run_values[input_id]
    field_id = _field_id(input_id)

    def typed(kind: str, **props) -> rx.Component:
        return rx.input(
            value=value,
            on_change=lambda v: RunState.set_run_value(input_id, v),
            type=kind,
            name=input_id,
            id=field_id,
            class_name="run-input",
            width="100%",
            **props,
        )

    return rx.match(
        item.widget,
        (
            "switch",
            rx.switch(
                checked=value == "true",
                on_change=lambda c: RunState.set_run_value(input_id, c),
                name=input_id,
                id=field_id,
            ),
        ),
        (
            "select",
            rx.select(
                item.options,
                value=value,
                on_change=lambda v: RunState.set_run_value(input_id, v),
                name=input_id,
                id=field_id,
            ),
        ),
        (
            "checkboxes",
            rx.hstack(
                rx.foreach(
                    item.options,
                    lambda choice: rx.checkbox(
                        choice,
                        checked=value.split(",").contains(choice),
                        on_change=lambda picked: RunState.toggle_run_choice(input_id, choice, picked),
                    ),
                ),
                wrap="wrap",
                role="group",
                id=field_id,
                aria_label=input_id,
            ),
        ),
        ("file", file_picker(input_id=input_id)),
        ("integer", typed("number", step="1")),
        ("number", typed("number", step="any")),
        ("date", typed("date")),
        ("datetime-local", typed("datetime-local", step="1")),
        ("password", typed("password")),
        ("duration", typed("text", placeholder="30s, 5m, 1h30m")),
        (
            "json",
            rx.text_area(
                value=value,
                on_change=lambda v: RunState.set_run_value(input_id, v),
                name=input_id,
                id=field_id,
                class_name="run-input",
                width="100%",
                font_family="monospace",
            ),
        ),
        typed("text"),
    )


@rx.memo
def file_picker(input_id: rx.Var[str]) -> rx.Component:
    return file_drop("run-file-", input_id, RunState.run_files, RunState.upload_run_file)


def _input_field(item: rx.Var[RunInput]) -> rx.Component:
    input_id = item.id
    return rx.vstack(
        rx.el.label(
            rx.text(input_id + " (" + item.type + ")", size="2", weight="bold"),
            html_for=_field_id(input_id),
            class_name="run-input-label",
        ),
        _input_widget(item),
        rx.cond(
            RunState.run_errors.contains(input_id),
            rx.text(RunState.run_errors[input_id], color_scheme="red", size="1", class_name="input-error"),
        ),
        rx.text(item.description, size="1", color_scheme="gray"),
        width="100%",
        spacing="1",
    )


def run_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Run " + EditorState.flow_id),
            rx.vstack(
                rx.foreach(RunState.run_inputs, _input_field),
                rx.cond(
                    RunState.run_error != "",
                    rx.text(RunState.run_error, color_scheme="red", id="run-error", size="2"),
                ),
                rx.hstack(
                    rx.button("Cancel", on_click=RunState.close_run, variant="soft"),
                    rx.button("Start", on_click=RunState.start_run, id="start-run", color_scheme="green"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
        ),
        open=RunState.run_open,
    )


def log_panel() -> rx.Component:
    """The run's logs in a bottom drawer: drag its top edge to resize it, or fold it down to its header."""
    open_ = EditorLayout.drawer == "open"
    return rx.vstack(
        drawer_splitter(target="log-drawer-body", storage_key="lanner:drawer-height"),
        rx.hstack(
            rx.text("Logs", weight="bold"),
            rx.cond(EditorState.selected != "", rx.badge("task " + EditorState.selected)),
            log_filters(
                RunState.log_level,
                RunState.set_log_level,
                RunState.log_search,
                RunState.set_log_search,
                RunState.visible_logs,
            ),
            rx.spacer(),
            rx.icon_button(
                rx.icon(rx.cond(open_, "chevron-down", "chevron-up"), size=16),
                on_click=EditorLayout.toggle_drawer,
                variant="ghost",
                id="drawer-toggle",
                aria_label=rx.cond(open_, "Fold the logs", "Show the logs"),
                aria_expanded=rx.cond(open_, "true", "false"),
            ),
            align="center",
            width="100%",
        ),
        rx.vstack(
            log_box(RunState.visible_logs, "none"),
            rx.cond(
                RunState.selected_outputs != "",
                rx.vstack(
                    rx.text("Outputs of " + EditorState.selected, weight="bold", size="2"),
                    code_view(RunState.selected_outputs, language="json", id="task-outputs", width="100%"),
                    width="100%",
                ),
            ),
            rx.cond(
                RunState.selected_files.length() > 0,
                files_panel(RunState.selected_files, RunState.preview, RunState.files_message, RunState.show_file),
            ),
            # Folded, it stays in the page (hidden), so the height it was given is kept.
            display=rx.cond(open_, "flex", "none"),
            height="26vh",
            overflow_y="auto",
            width="100%",
            id="log-drawer-body",
        ),
        width="100%",
        flex="none",
        padding="0 0.5em 0.5em",
        border="1px solid var(--gray-5)",
        border_radius="8px",
        spacing="1",
        id="log-drawer",
    )
