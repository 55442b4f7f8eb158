"""The "Docs" section of the editor's form: the selected task type's documentation, from its schema.

What it shows comes from ``studio.services.task_docs``; the state that picks the type (the selected task's) is
``studio.pages.editor.docs``. Collapsed by default, so the form stays first; the choice is kept while editing."""

from dataclasses import dataclass, field

import reflex as rx


@dataclass
class DocProperty:
    name: str = ""
    type: str = ""
    default: str = ""
    description: str = ""
    required: bool = False
    common: bool = False


@dataclass
class DocOutput:
    name: str = ""
    description: str = ""


@dataclass
class TaskDoc:
    """One task type's documentation, as ``task_docs.task_doc`` gives it."""

    type: str = ""
    title: str = ""
    summary: str = ""
    description: str = ""
    group: str = ""
    properties: list[DocProperty] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    outputs: list[DocOutput] = field(default_factory=list)


def _property(prop: rx.Var[DocProperty]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.code(prop.name, size="1", weight="bold"),
            rx.cond(prop.required, rx.badge("required", color_scheme="red", size="1", variant="soft")),
            rx.text(prop.type, size="1", color="var(--gray-11)", class_name="doc-type"),
            spacing="2",
            wrap="wrap",
            align="center",
        ),
        rx.cond(prop.default != "", rx.text("Default: ", rx.code(prop.default, size="1"), size="1")),
        rx.cond(prop.description != "", rx.text(prop.description, size="1", color="var(--gray-12)")),
        spacing="1",
        width="100%",
        padding_y="0.25em",
        border_bottom="1px solid var(--gray-4)",
        class_name="doc-property",
        custom_attrs={"data-name": prop.name},
    )


def _output(output: rx.Var[DocOutput]) -> rx.Component:
    return rx.hstack(
        rx.code(output.name, size="1", weight="bold"),
        rx.text(output.description, size="1", color="var(--gray-12)"),
        spacing="2",
        align="start",
        width="100%",
        class_name="doc-output",
        custom_attrs={"data-name": output.name},
    )


def _example(text: rx.Var[str]) -> rx.Component:
    return rx.el.pre(
        text,
        class_name="doc-example",
        style={
            "background": "var(--gray-3)",
            "color": "var(--gray-12)",
            "padding": "0.5em",
            "borderRadius": "4px",
            "fontSize": "11px",
            "overflowX": "auto",
            "whiteSpace": "pre",
            "width": "100%",
            "margin": 0,
            "flexShrink": 0,
        },
    )


def _heading(text: str) -> rx.Component:
    return rx.text(text, size="2", weight="bold", margin_top="0.75em", margin_bottom="0.25em")


def _body(doc: rx.Var[TaskDoc]) -> rx.Component:
    # A block, not a flex column: with a capped height, flex items would shrink (examples squashed to a line).
    return rx.box(
        rx.hstack(
            rx.text(doc.title, size="2", weight="bold"),
            rx.code(doc.type, size="1"),
            rx.badge(doc.group, size="1", variant="soft"),
            spacing="2",
            wrap="wrap",
            align="center",
        ),
        rx.text(doc.summary, size="1"),
        rx.cond(doc.description != "", rx.text(doc.description, size="1", color="var(--gray-11)")),
        _heading("Outputs"),
        rx.cond(
            doc.outputs.length() > 0,
            rx.vstack(rx.foreach(doc.outputs, _output), spacing="1", width="100%", margin_y="0.25em"),
            rx.text("This task gives no outputs.", size="1", color="var(--gray-11)"),
        ),
        rx.text(
            "Later tasks read them as {{ outputs.<id>.<name> }}.",
            size="1",
            color="var(--gray-11)",
        ),
        _heading("Examples"),
        rx.vstack(rx.foreach(doc.examples, _example), spacing="2", width="100%"),
        _heading("Properties"),
        rx.foreach(doc.properties, _property),
        width="100%",
        max_height="45vh",  # the form stays in reach below it
        overflow_y="auto",
        flex_shrink="0",  # in the form's column, a scrolling box would otherwise shrink to nothing
        padding_right="0.25em",
        id="task-docs-body",
    )


def task_docs(doc: rx.Var[TaskDoc], shown: rx.Var[bool], on_toggle: rx.EventHandler) -> rx.Component:
    """A collapsible "Docs" section for ``doc`` (nothing when there is no task type to document): one line at the
    top of the form until opened."""
    return rx.cond(
        doc.type != "",
        rx.vstack(
            rx.button(
                rx.icon(rx.cond(shown, "chevron-down", "chevron-right"), size=14),
                rx.icon("book-open", size=14),
                "Docs: " + doc.title,
                size="1",
                variant="ghost",
                on_click=on_toggle,
                id="task-docs-toggle",
                aria_expanded=rx.cond(shown, "true", "false"),
            ),
            rx.cond(shown, _body(doc)),
            width="100%",
            spacing="2",
            padding_bottom="0.5em",
            border_bottom="1px solid var(--gray-5)",
            flex_shrink="0",
            id="task-docs",
        ),
    )
