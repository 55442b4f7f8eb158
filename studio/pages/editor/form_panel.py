"""The editor's property form: the selected task's fields (or the flow's settings), one widget per kind."""

import reflex as rx

from studio.components.code_editor import code_field
from studio.components.form_widgets import key_value_field, list_field, record_list_field
from studio.forms import FormField
from studio.pages.editor.docs import docs_section
from studio.pages.editor.forms import FormsState
from studio.pages.editor.names import NamesState
from studio.pages.editor.problems_panel import details
from studio.pages.editor.schedules import schedules_section
from studio.pages.editor.state import EditorState

DURATION_PATTERN = r"^((\d+(\.\d+)?(ms|s|m|h|d|w))+|P.+|\{\{.*\}\})$"


def _code(field: rx.Var[FormField], language, single_line: bool) -> rx.Component:
    return code_field(
        key=EditorState.selected + ":" + field.name,  # another task's field is another editor
        name=field.name,
        value=field.text,
        language=language,
        single_line=single_line,
        names=NamesState.all_names,
        on_commit=FormsState.commit_field,
        read_only=~EditorState.can_edit,
        label=field.label,
    )


def _text_input(field: rx.Var[FormField], **props) -> rx.Component:
    name = field.name
    return rx.input(
        default_value=field.text,
        key=EditorState.selected
        + ":"
        + name
        + ":"
        + field.text,  # a new value from the YAML (undo, say) remounts the input
        on_blur=lambda v: FormsState.set_field(name, v),
        placeholder=field.placeholder,
        size="1",
        width="100%",
        name=name,
        class_name="form-field",
        disabled=~EditorState.can_edit,  # a viewer sees the value and cannot type
        aria_label=field.label,
        **props,
    )


def _data_field(widget, field: rx.Var[FormField], **props) -> rx.Component:
    """A map, list or records widget (plain React): it reports its whole value when focus leaves it."""
    name = field.name
    key = EditorState.selected + ":" + name
    return widget(
        key=key,
        name=name,
        value=field.value,
        on_commit=FormsState.commit_field,
        disabled=~EditorState.can_edit,
        label=field.label,
        **props,
    )


def _widget(field: rx.Var[FormField]) -> rx.Component:
    name = field.name
    return rx.match(
        field.kind,
        (
            "switch",
            rx.switch(
                checked=field.value,
                on_change=lambda c: FormsState.set_field(name, c),
                disabled=~EditorState.can_edit,
                name=name,
                aria_label=field.label,
            ),
        ),
        (
            "choice",
            rx.select(
                field.options,
                value=field.text,
                on_change=lambda v: FormsState.set_field(name, v),
                size="1",
                name=name,
                disabled=~EditorState.can_edit,
                custom_attrs={"aria-label": field.label},
            ),
        ),
        (
            "task-id",
            _text_input(
                field,
                id="task-id-field",
                custom_attrs={"aria-invalid": rx.cond(FormsState.field_error_for == "id", "true", "false")},
            ),
        ),
        ("number", _text_input(field, input_mode="decimal")),
        ("duration", _text_input(field, pattern=DURATION_PATTERN)),
        ("fixed", rx.code(field.text, class_name="form-fixed")),
        ("code", _code(field, field.language, False)),
        ("lines", _code(field, field.language, False)),
        ("yaml", _code(field, "yaml", False)),
        ("map", _data_field(key_value_field, field)),
        ("list", _data_field(list_field, field)),
        ("records", _data_field(record_list_field, field, columns=field.columns)),
        _code(field, "", True),
    )


def _form_field(field: rx.Var[FormField]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(field.label, size="1", weight="bold"),
            rx.cond(field.required, rx.text("*", color_scheme="red", size="1", title="required")),
            spacing="1",
        ),
        _widget(field),
        rx.cond(
            FormsState.field_error_for == field.name,
            rx.text(FormsState.field_error, color_scheme="red", size="1", class_name="field-error", role="alert"),
        ),
        rx.cond(field.help != "", rx.text(field.help, size="1", color_scheme="gray")),
        rx.cond(field.name == "triggers", schedules_section()),  # each schedule in words, and a cron builder
        width="100%",
        spacing="1",
        class_name="form-row",
        custom_attrs={"data-name": field.name},
    )


def _connection_test() -> rx.Component:
    """For database tasks: connect with the address as written (and the defaults) and show the answer inline."""
    return rx.vstack(
        rx.cond(
            EditorState.can_edit,  # testing uses the namespace's secrets: for those who may edit the flow
            rx.button(
                "Test connection", size="1", variant="soft", on_click=FormsState.test_connection, id="test-connection"
            ),
        ),
        rx.cond(
            (FormsState.connection_answer != "") & (FormsState.connection_task == EditorState.selected),
            rx.text(
                FormsState.connection_answer,
                color_scheme=rx.cond(FormsState.connection_ok, "green", "red"),
                size="1",
                id="connection-answer",
                custom_attrs={"data-ok": rx.cond(FormsState.connection_ok, "true", "false")},
            ),
        ),
        rx.cond(
            (FormsState.connection_detail != "") & (FormsState.connection_task == EditorState.selected),
            details(FormsState.connection_detail, "connection-details"),
        ),
        spacing="1",
        width="100%",
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
        docs_section(),  # the selected task type's documentation, collapsed until asked for
        rx.cond(
            EditorState.form_error != "", rx.text(EditorState.form_error, color_scheme="red", size="1", id="form-error")
        ),
        # For people who may not edit, the fields only show the values: a change is refused (EditorState._change).
        rx.foreach(FormsState.form, _form_field),
        rx.cond(FormsState.is_database_task, _connection_test()),
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
