"""The editor's panels: the property form, the run dialog, the log panel and the revision history."""

import reflex as rx

from studio.components.code_editor import code_field
from studio.components.file_drop import file_drop
from studio.components.form_widgets import key_value_field, list_field, record_list_field
from studio.components.logs import log_filters, log_line
from studio.pages.editor.state import EditorState

DURATION_PATTERN = r"^((\d+(\.\d+)?(ms|s|m|h|d|w))+|P.+|\{\{.*\}\})$"


def _code(field: dict, language, single_line: bool) -> rx.Component:
    return code_field(
        key=EditorState.selected + ":" + field["name"].to(str),  # another task's field is another editor
        name=field["name"].to(str),
        value=field["text"].to(str),
        language=language,
        single_line=single_line,
        names=EditorState.names,
        on_commit=EditorState.commit_field,
    )


def _text_input(field: dict, **props) -> rx.Component:
    name = field["name"].to(str)
    return rx.input(
        default_value=field["text"].to(str),
        key=EditorState.selected
        + ":"
        + name
        + ":"
        + field["text"].to(str),  # a new value from the YAML (undo, say) remounts the input
        on_blur=lambda v: EditorState.set_field(name, v),
        placeholder=field["placeholder"].to(str),
        size="1",
        width="100%",
        name=name,
        class_name="form-field",
        **props,
    )


def _widget(field: dict) -> rx.Component:
    name = field["name"].to(str)
    return rx.match(
        field["kind"],
        ("switch", rx.switch(checked=field["value"].to(bool), on_change=lambda c: EditorState.set_field(name, c))),
        (
            "choice",
            rx.select(
                field["options"].to(list[str]),
                value=field["text"].to(str),
                on_change=lambda v: EditorState.set_field(name, v),
                size="1",
                name=name,
            ),
        ),
        ("number", _text_input(field, input_mode="decimal")),
        ("duration", _text_input(field, pattern=DURATION_PATTERN)),
        ("fixed", rx.code(field["text"].to(str), class_name="form-fixed")),
        ("code", _code(field, field["language"].to(str), False)),
        ("lines", _code(field, field["language"].to(str), False)),
        ("yaml", _code(field, "yaml", False)),
        (
            "map",
            key_value_field(
                key=EditorState.selected + ":" + name,
                name=name,
                value=field["value"],
                on_commit=EditorState.commit_field,
            ),
        ),
        (
            "list",
            list_field(
                key=EditorState.selected + ":" + name,
                name=name,
                value=field["value"],
                on_commit=EditorState.commit_field,
            ),
        ),
        (
            "records",
            record_list_field(
                key=EditorState.selected + ":" + name,
                name=name,
                value=field["value"],
                columns=field["columns"],
                on_commit=EditorState.commit_field,
            ),
        ),
        _code(field, "", True),
    )


def _form_field(field: dict) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(field["label"].to(str), size="1", weight="bold"),
            rx.cond(field["required"].to(bool), rx.text("*", color_scheme="red", size="1", title="required")),
            spacing="1",
        ),
        _widget(field),
        rx.cond(field["help"].to(str) != "", rx.text(field["help"].to(str), size="1", color_scheme="gray")),
        width="100%",
        spacing="1",
        class_name="form-row",
        custom_attrs={"data-name": field["name"].to(str)},
    )


def form_panel(max_height: str) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(
                rx.cond(EditorState.selected != "", "Task " + EditorState.selected, "Flow settings"), weight="bold"
            ),
            rx.spacer(),
            rx.cond(
                EditorState.selected != "",
                rx.button("Flow settings", size="1", variant="ghost", on_click=EditorState.flow_settings),
            ),
            width="100%",
        ),
        rx.cond(
            EditorState.form_error != "", rx.text(EditorState.form_error, color_scheme="red", size="1", id="form-error")
        ),
        # For people who may not edit, the fields only show the values: a change is refused (EditorState._change).
        rx.foreach(EditorState.form, _form_field),
        width="100%",
        padding="0.5em",
        border="1px solid var(--gray-5)",
        border_radius="8px",
        id="form-panel",
        min_width="0",
        overflow_x="hidden",
        max_height=max_height,
        overflow_y="auto",
        spacing="3",
    )


def _input_widget(item: dict) -> rx.Component:
    input_id = item["id"].to(str)
    value = EditorState.run_values[input_id]

    def typed(kind: str, **props) -> rx.Component:
        return rx.input(
            value=value,
            on_change=lambda v: EditorState.set_run_value(input_id, v),
            type=kind,
            name=input_id,
            class_name="run-input",
            width="100%",
            **props,
        )

    return rx.match(
        item["widget"],
        (
            "switch",
            rx.switch(
                checked=value == "true", on_change=lambda c: EditorState.set_run_value(input_id, c), name=input_id
            ),
        ),
        (
            "select",
            rx.select(
                item["options"].to(list[str]),
                value=value,
                on_change=lambda v: EditorState.set_run_value(input_id, v),
                name=input_id,
            ),
        ),
        (
            "checkboxes",
            rx.hstack(
                rx.foreach(
                    item["options"].to(list[str]),
                    lambda choice: rx.checkbox(
                        choice,
                        checked=value.split(",").contains(choice),
                        on_change=lambda picked: EditorState.toggle_run_choice(input_id, choice, picked),
                    ),
                ),
                wrap="wrap",
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
                on_change=lambda v: EditorState.set_run_value(input_id, v),
                name=input_id,
                class_name="run-input",
                width="100%",
                font_family="monospace",
            ),
        ),
        typed("text"),
    )


@rx.memo
def file_picker(input_id: rx.Var[str]) -> rx.Component:
    upload_id = "run-file-" + input_id
    return file_drop(
        upload_id,
        rx.cond(EditorState.run_files.contains(input_id), EditorState.run_files[input_id], ""),
        EditorState.upload_run_file(rx.upload_files(upload_id=upload_id), input_id),
    )


def _input_field(item: dict) -> rx.Component:
    input_id = item["id"].to(str)
    return rx.vstack(
        rx.text(input_id + " (" + item["type"].to(str) + ")", size="2", weight="bold"),
        _input_widget(item),
        rx.cond(
            EditorState.run_errors.contains(input_id),
            rx.text(EditorState.run_errors[input_id], color_scheme="red", size="1", class_name="input-error"),
        ),
        rx.text(item["description"].to(str), size="1", color_scheme="gray"),
        width="100%",
        spacing="1",
    )


def run_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Run " + EditorState.flow_id),
            rx.vstack(
                rx.foreach(EditorState.run_inputs, _input_field),
                rx.cond(
                    EditorState.run_error != "",
                    rx.text(EditorState.run_error, color_scheme="red", id="run-error", size="2"),
                ),
                rx.hstack(
                    rx.button("Cancel", on_click=EditorState.close_run, variant="soft"),
                    rx.button("Start", on_click=EditorState.start_run, id="start-run", color_scheme="green"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
        ),
        open=EditorState.run_open,
    )


def log_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Logs", weight="bold"),
            rx.cond(EditorState.selected != "", rx.badge("task " + EditorState.selected)),
            log_filters(
                EditorState.log_level,
                EditorState.set_log_level,
                EditorState.log_search,
                EditorState.set_log_search,
                EditorState.visible_logs,
            ),
            align="center",
        ),
        rx.box(
            rx.foreach(EditorState.visible_logs, log_line),
            max_height="25vh",
            overflow_y="auto",
            width="100%",
            id="log-panel",
        ),
        rx.cond(
            EditorState.selected_outputs != "",
            rx.vstack(
                rx.text("Outputs of " + EditorState.selected, weight="bold", size="2"),
                rx.code_block(EditorState.selected_outputs, language="json", id="task-outputs", width="100%"),
                width="100%",
            ),
        ),
        width="100%",
        margin_top="1em",
        padding="0.5em",
        border="1px solid var(--gray-5)",
        border_radius="8px",
    )


def _revision_row(row: dict) -> rx.Component:
    return rx.hstack(
        rx.text("rev " + row["revision"], weight="bold", size="2", width="60px"),
        rx.text(row["created"] + " " + row["author"], size="1", color_scheme="gray"),
        rx.spacer(),
        rx.button("Diff", size="1", variant="soft", on_click=EditorState.diff_with_current(row["revision"])),
        rx.cond(
            EditorState.can_edit,
            rx.button("Restore", size="1", variant="soft", on_click=EditorState.restore(row["revision"])),
        ),
        width="100%",
        class_name="revision-row",
    )


def _diff_row(row: dict) -> rx.Component:
    colour = rx.match(row["kind"], ("equal", "transparent"), ("insert", "#dcfce7"), ("delete", "#fee2e2"), "#fef9c3")
    return rx.grid(
        rx.text(row["left"], font_family="monospace", size="1", white_space="pre", background=colour),
        rx.text(row["right"], font_family="monospace", size="1", white_space="pre", background=colour),
        columns="2",
        width="100%",
        class_name="diff-row",
    )


def history_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Revisions of " + EditorState.flow_id),
            rx.vstack(
                rx.foreach(EditorState.history, _revision_row),
                rx.hstack(
                    rx.text("Diff compares with", size="2"),
                    rx.select(
                        EditorState.compare_choices,
                        value=EditorState.compare_with,
                        on_change=EditorState.set_compare_with,
                        size="1",
                        id="compare-with",
                    ),
                    align="center",
                ),
                rx.cond(EditorState.diff_title != "", rx.text(EditorState.diff_title, size="2", weight="bold")),
                rx.box(
                    rx.foreach(EditorState.diff_rows, _diff_row),
                    max_height="40vh",
                    overflow="auto",
                    width="100%",
                    id="diff-view",
                ),
                rx.button("Close", on_click=EditorState.close_history, variant="soft"),
                width="100%",
            ),
            max_width="1000px",
        ),
        open=EditorState.history_open,
    )
