"""The flow's problems under the YAML, in words for people, each with its raw error behind "Details"."""

import reflex as rx

from studio.pages.editor.state import EditorState


def details(raw: rx.Var[str], class_name: str) -> rx.Component:
    """The raw error, one click away."""
    return rx.el.details(
        rx.el.summary("Details", style={"cursor": "pointer", "color": "var(--gray-11)"}),
        rx.code(raw, size="1", white_space="pre-wrap", word_break="break-word"),
        class_name=class_name,
        style={"fontSize": "12px"},
    )


def _problem(note: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.box(
        rx.text(note["text"], color_scheme="red", size="1", class_name="problem-line"),
        rx.cond(note["raw"] != "", details(note["raw"], "problem-details")),
        width="100%",
    )


def problem_list() -> rx.Component:
    return rx.foreach(EditorState.problem_notes, _problem)
