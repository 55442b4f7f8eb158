"""The editor's revision history dialog: the revisions, a side-by-side diff, restoring one."""

import reflex as rx

from studio.pages.editor.history import DiffRow, HistoryState, Revision
from studio.pages.editor.state import EditorState


def _revision_row(row: rx.Var[Revision]) -> rx.Component:
    return rx.hstack(
        rx.text("rev " + row.revision, weight="bold", size="2", width="60px"),
        rx.text(row.created + " " + row.author, size="1", color_scheme="gray"),
        rx.spacer(),
        rx.button("Diff", size="1", variant="soft", on_click=HistoryState.diff_with_current(row.revision)),
        rx.cond(
            EditorState.can_edit,
            rx.button("Restore", size="1", variant="soft", on_click=HistoryState.restore(row.revision)),
        ),
        width="100%",
        class_name="revision-row",
    )


def _diff_row(row: rx.Var[DiffRow]) -> rx.Component:
    colour = rx.match(row.kind, ("equal", "transparent"), ("insert", "#dcfce7"), ("delete", "#fee2e2"), "#fef9c3")
    return rx.grid(
        rx.text(row.left, font_family="monospace", size="1", white_space="pre", background=colour),
        rx.text(row.right, font_family="monospace", size="1", white_space="pre", background=colour),
        columns="2",
        width="100%",
        class_name="diff-row",
    )


def history_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Revisions of " + EditorState.flow_id),
            rx.vstack(
                rx.foreach(HistoryState.history, _revision_row),
                rx.hstack(
                    rx.text("Diff compares with", size="2"),
                    rx.select(
                        HistoryState.compare_choices,
                        value=HistoryState.compare_with,
                        on_change=HistoryState.set_compare_with,
                        size="1",
                        id="compare-with",
                        custom_attrs={"aria-label": "Diff compares with"},
                    ),
                    align="center",
                ),
                rx.cond(HistoryState.diff_title != "", rx.text(HistoryState.diff_title, size="2", weight="bold")),
                rx.box(
                    rx.foreach(HistoryState.diff_rows, _diff_row),
                    max_height="40vh",
                    overflow="auto",
                    width="100%",
                    id="diff-view",
                ),
                rx.button("Close", on_click=HistoryState.close_history, variant="soft"),
                width="100%",
            ),
            max_width="1000px",
        ),
        open=HistoryState.history_open,
    )
