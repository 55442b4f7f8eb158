"""The flow editor page: palette, canvas and a right pane holding the YAML or the form."""

import reflex as rx

from studio.components.canvas import flow_canvas, task_palette
from studio.components.code_editor import yaml_editor
from studio.components.editor_guard import editor_guard
from studio.components.form_widgets import pane_splitter
from studio.components.layout import choice_button, page, sidebar
from studio.components.share_dialog import share_button, share_dialog
from studio.components.state_badge import state_badge
from studio.pages.editor.clipboard import flow_clipboard
from studio.pages.editor.form_panel import form_panel
from studio.pages.editor.history import HistoryState
from studio.pages.editor.history_panel import history_dialog
from studio.pages.editor.names import NamesState
from studio.pages.editor.problems_panel import problem_list
from studio.pages.editor.run import RunState
from studio.pages.editor.run_on_open import run_on_open
from studio.pages.editor.run_panel import log_panel, run_dialog
from studio.pages.editor.state import EditorState
from studio.pages.editor.task_test import task_test
from studio.session import SessionState


def _pane_button(label: str, pane: str) -> rx.Component:
    return choice_button(label, EditorState.pane == pane, EditorState.set_pane(pane), f"pane-{pane}")


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.heading(EditorState.namespace + "/" + EditorState.flow_id, size="5"),
        rx.cond(EditorState.dirty, rx.badge("unsaved changes", color_scheme="orange", id="dirty-badge")),
        rx.cond(
            EditorState.read_only_note != "",
            rx.badge(EditorState.read_only_note, color_scheme="gray", id="read-only-badge"),
        ),
        rx.spacer(),
        rx.text(EditorState.message, id="editor-message", size="2"),
        rx.button(
            "Undo",
            on_click=EditorState.undo,
            variant="soft",
            id="undo-button",
            disabled=EditorState.undo_stack.length() == 0,
        ),
        rx.button(
            "Redo",
            on_click=EditorState.redo,
            variant="soft",
            id="redo-button",
            disabled=EditorState.redo_stack.length() == 0,
        ),
        rx.button("Flow settings", on_click=EditorState.flow_settings, variant="soft", id="flow-settings-button"),
        rx.hstack(
            _pane_button("YAML", "yaml"), _pane_button("Form", "form"), _pane_button("Hide", "hidden"), spacing="1"
        ),
        rx.link(
            "Runs",
            href="/executions?namespace=" + EditorState.namespace + "&flow=" + EditorState.flow_id,
            id="runs-link",
            size="2",
        ),
        rx.link(
            "Run history",
            href="/dashboard?namespace=" + EditorState.namespace + "&flow=" + EditorState.flow_id,
            id="run-history-link",
            size="2",
        ),
        rx.button("History", on_click=HistoryState.open_history, variant="soft", id="history-button"),
        # Shown only to those who may: the services refuse the others anyway.
        rx.cond(EditorState.can_share, share_button("flow", EditorState.namespace, EditorState.flow_id)),
        rx.cond(EditorState.can_edit, rx.button("Save", on_click=EditorState.save, id="save-button")),
        task_test(),
        rx.cond(
            EditorState.can_run,
            rx.button("Run", on_click=RunState.open_run, id="run-button", color_scheme="green"),
        ),
        rx.cond(
            RunState.execution_id != "",
            rx.hstack(
                state_badge(RunState.execution_state, id="execution-state"),
                rx.button(
                    "Kill",
                    on_click=RunState.kill_run,
                    id="kill-button",
                    color_scheme="red",
                    variant="soft",
                    disabled=RunState.run_ended,  # nothing left to stop
                ),
            ),
        ),
        width="100%",
        align="center",
        wrap="wrap",
    )


def _palette() -> rx.Component:
    """The task types to drag onto the canvas: only for those who may change the flow."""
    return rx.cond(EditorState.can_edit, _palette_list())


def _palette_list() -> rx.Component:
    return rx.vstack(
        rx.input(
            placeholder="Search tasks",
            value=EditorState.search,
            on_change=EditorState.set_search,
            id="palette-search",
            aria_label="Search tasks",
        ),
        task_palette(items=EditorState.visible_palette),
        width="230px",
        flex="none",
        height="75vh",
        overflow_y="auto",
        spacing="2",
        id="palette",
    )


def _canvas() -> rx.Component:
    return rx.box(
        flow_canvas(
            nodes=EditorState.nodes,
            edges=EditorState.edges,
            positions=EditorState.positions,
            read_only=~EditorState.can_edit,
            flow_key=EditorState.flow_key,
            on_undo=EditorState.undo,
            on_redo=EditorState.redo,
            on_drop_task=EditorState.drop_task,
            on_connect_tasks=EditorState.connect_tasks,
            on_delete_tasks=EditorState.delete_tasks,
            on_delete_edge=EditorState.delete_edge,
            on_move_task=EditorState.move_task,
            on_select_task=EditorState.select_task,
        ),
        flex="1",
        min_width="300px",
        height="75vh",
        border="1px solid var(--gray-5)",
        border_radius="8px",
        id="canvas",
    )


def _right_pane() -> rx.Component:
    """The YAML (with the selected task's form above it), or the form alone; resizable with the splitter."""
    return rx.vstack(
        rx.cond(
            EditorState.pane == "form",
            form_panel("75vh"),
            rx.fragment(
                rx.cond(EditorState.selected != "", form_panel("30vh")),
                rx.box(
                    yaml_editor(
                        value=EditorState.text,
                        problems=EditorState.problems,
                        on_change=EditorState.yaml_changed.debounce(350),
                        height=rx.cond(EditorState.selected != "", "42vh", "70vh"),
                        completions=EditorState.completions,
                        names=NamesState.all_names,
                        on_mount=NamesState.load_namespace_names,
                        read_only=~EditorState.can_edit,
                        on_save=EditorState.save_shortcut,
                    ),
                    width="100%",
                    id="yaml-editor",
                ),
            ),
        ),
        problem_list(),
        width="40%",
        flex="none",
        min_width="0",
        overflow_x="hidden",
        id="yaml-pane",
    )


def editor_page() -> rx.Component:
    return page(
        sidebar(SessionState.reachable, EditorState.namespace, SessionState.open_namespace),
        rx.cond(
            EditorState.missing != "",
            rx.callout(EditorState.missing, color_scheme="red", id="flow-missing"),
            rx.fragment(
                editor_guard(dirty=EditorState.dirty, on_save=EditorState.save_shortcut),
                _toolbar(),
                rx.hstack(
                    _palette(),
                    _canvas(),
                    rx.cond(
                        EditorState.pane != "hidden",
                        rx.fragment(pane_splitter(target="yaml-pane", storage_key="lanner:pane-width"), _right_pane()),
                    ),
                    width="100%",
                    spacing="2",
                    margin_top="1em",
                ),
                run_dialog(),
                run_on_open(),
                flow_clipboard(),
                history_dialog(),
                share_dialog(),
                rx.cond(RunState.execution_id != "", log_panel()),
            ),
        ),
    )
