"""The flow editor page: a one-line toolbar; palette, canvas and a resizable right pane holding the YAML or the
form; the run's logs in a bottom drawer. The canvas comes first: the rest can be collapsed, hidden or resized."""

import reflex as rx

from studio.components.canvas import flow_canvas, task_palette
from studio.components.code_editor import yaml_editor
from studio.components.editor_guard import editor_guard
from studio.components.editor_layout import TIDY_UP
from studio.components.form_widgets import pane_splitter
from studio.components.layout import choice_button, page, sidebar
from studio.components.share_dialog import share_button, share_dialog
from studio.components.state_badge import state_badge
from studio.pages.editor.clipboard import flow_clipboard
from studio.pages.editor.form_panel import form_panel
from studio.pages.editor.history import HistoryState
from studio.pages.editor.history_panel import history_dialog
from studio.pages.editor.layout_state import EditorLayout
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


def _icon_button(icon: str, label: str, on_click, id: str, **props) -> rx.Component:
    return rx.tooltip(
        rx.icon_button(rx.icon(icon, size=16), on_click=on_click, variant="soft", id=id, aria_label=label, **props),
        content=label,
    )


def _more_menu() -> rx.Component:
    """The secondary actions, so the toolbar stays on one line (their ids are kept: tests and links use them)."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button("More", rx.icon("chevron-down", size=14), variant="soft", id="more-menu", aria_label="More")
        ),
        rx.menu.content(
            rx.menu.item("Flow settings", on_click=EditorState.flow_settings, id="flow-settings-button"),
            rx.menu.item("Revision history", on_click=HistoryState.open_history, id="history-button"),
            rx.menu.separator(),
            rx.menu.item(
                rx.link("Runs", href="/executions?namespace=" + EditorState.namespace + "&flow=" + EditorState.flow_id),
                as_child=True,
                id="runs-link",
            ),
            rx.menu.item(
                rx.link(
                    "Run history",
                    href="/dashboard?namespace=" + EditorState.namespace + "&flow=" + EditorState.flow_id,
                ),
                as_child=True,
                id="run-history-link",
            ),
        ),
    )


def _toolbar() -> rx.Component:
    """One line, never wrapping: the name and the message give way (ellipsis) before any button does."""
    ellipsis = {"white_space": "nowrap", "overflow": "hidden", "text_overflow": "ellipsis", "min_width": "0"}
    return rx.hstack(
        rx.heading(EditorState.namespace + "/" + EditorState.flow_id, size="4", flex="0 1 auto", **ellipsis),
        rx.cond(EditorState.dirty, rx.badge("unsaved", color_scheme="orange", id="dirty-badge")),
        rx.cond(
            EditorState.read_only_note != "",
            rx.badge(EditorState.read_only_note, color_scheme="gray", id="read-only-badge", **ellipsis),
        ),
        rx.text(EditorState.message, id="editor-message", size="2", flex="1 1 0", text_align="right", **ellipsis),
        rx.cond(
            EditorState.can_edit,
            rx.hstack(
                _icon_button("undo-2", "Undo", EditorState.undo, "undo-button", disabled=~EditorState.can_undo),
                _icon_button("redo-2", "Redo", EditorState.redo, "redo-button", disabled=~EditorState.can_redo),
                spacing="1",
            ),
        ),
        _icon_button("network", "Tidy up: lay the flow out again", TIDY_UP, "tidy-button"),
        rx.hstack(
            _pane_button("YAML", "yaml"), _pane_button("Form", "form"), _pane_button("Hide", "hidden"), spacing="1"
        ),
        _more_menu(),
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
                rx.cond(
                    RunState.run_waiting != "",
                    rx.tooltip(
                        rx.badge(rx.icon("triangle_alert", size=14), "waiting", color_scheme="amber", id="run-waiting"),
                        content=RunState.run_waiting,
                    ),
                ),
                rx.button(
                    "Kill",
                    on_click=RunState.kill_run,
                    id="kill-button",
                    color_scheme="red",
                    variant="soft",
                    disabled=RunState.run_ended,  # nothing left to stop
                ),
                align="center",
                flex="none",
            ),
        ),
        width="100%",
        align="center",
        wrap="nowrap",
        flex="none",
        overflow="hidden",
        spacing="2",
        id="editor-toolbar",
    )


def _palette() -> rx.Component:
    """The task types to drag onto the canvas (or add with the keyboard): only for those who may change the flow."""
    return rx.cond(EditorState.can_edit, _palette_list())


def _palette_list() -> rx.Component:
    collapsed = EditorLayout.palette == "collapsed"
    return rx.vstack(
        rx.hstack(
            rx.cond(
                collapsed,
                rx.fragment(),
                rx.input(
                    placeholder="Search tasks",
                    value=EditorState.search,
                    on_change=EditorState.set_search,
                    id="palette-search",
                    aria_label="Search tasks",
                    flex="1",
                    min_width="0",
                ),
            ),
            rx.icon_button(
                rx.icon(rx.cond(collapsed, "panel-left-open", "panel-left-close"), size=16),
                on_click=EditorLayout.toggle_palette,
                variant="ghost",
                id="palette-toggle",
                aria_label=rx.cond(collapsed, "Show the palette", "Icons only"),
                aria_expanded=rx.cond(collapsed, "false", "true"),
                title=rx.cond(collapsed, "Show the palette", "Icons only"),
            ),
            width="100%",
            align="center",
            justify="center",
            spacing="1",
        ),
        task_palette(
            items=EditorState.visible_palette, collapsed=collapsed, on_add_task=EditorState.add_task_after_selected
        ),
        width=rx.cond(collapsed, "52px", "170px"),
        flex="none",
        height="100%",
        overflow_y="auto",
        overflow_x="hidden",
        spacing="2",
        padding_right="2px",
        id="palette",
        data_collapsed=rx.cond(collapsed, "true", "false"),
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
            on_focus_task=EditorState.focus_task,
            on_open_task=EditorState.open_task_form,
        ),
        flex="1",
        min_width="240px",
        height="100%",
        border="1px solid var(--gray-5)",
        border_radius="8px",
        overflow="hidden",
        id="canvas",
    )


def _right_pane() -> rx.Component:
    """The YAML (with the selected task's form above it), or the form alone; resizable with the splitter."""
    return rx.vstack(
        rx.cond(
            EditorState.pane == "form",
            form_panel("calc(100vh - 8em)"),
            rx.fragment(
                rx.cond(EditorState.selected != "", form_panel("30vh")),
                rx.box(
                    yaml_editor(
                        value=EditorState.text,
                        problems=EditorState.problems,
                        on_change=EditorState.yaml_changed.debounce(350),
                        height=rx.cond(EditorState.selected != "", "calc(60vh - 6em)", "calc(100vh - 8em)"),
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
        width="22%",  # with the palette and the sidebar collapsed, the canvas gets well over half of 1280 px
        flex="none",
        min_width="0",
        height="100%",
        overflow_x="hidden",
        overflow_y="auto",
        id="yaml-pane",
    )


def editor_page() -> rx.Component:
    return page(
        sidebar(
            SessionState.reachable,
            EditorState.namespace,
            SessionState.open_namespace,
            collapsed=EditorLayout.sidebar == "collapsed",
            on_toggle=EditorLayout.toggle_sidebar,
        ),
        rx.cond(
            EditorState.missing != "",
            rx.callout(EditorState.missing, color_scheme="red", id="flow-missing"),
            rx.vstack(
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
                    flex="1",
                    min_height="0",
                    spacing="1",
                    align="stretch",
                ),
                rx.cond(RunState.execution_id != "", log_panel()),
                run_dialog(),
                run_on_open(),
                flow_clipboard(),
                history_dialog(),
                share_dialog(),
                # The page is the window's height: the canvas takes what the toolbar and the drawer leave.
                height="calc(100vh - 3em)",
                width="100%",
                spacing="2",
            ),
        ),
    )
