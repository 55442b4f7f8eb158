"""The keyboard shortcut help: ``?`` on any signed-in page (or the account box's button) lists the studio's keys."""

from __future__ import annotations

import reflex as rx

#: Every shortcut of the studio, as the help lists them: (keys, what they do, where).
SHORTCUTS: list[tuple[str, str, str]] = [
    ("Ctrl+S", "Save the flow", "Editor"),
    ("Ctrl+Z", "Undo", "Editor"),
    ("Shift+Ctrl+Z", "Redo", "Editor"),
    ("Delete", "Delete the selected tasks or links", "Canvas"),
    ("Ctrl+C", "Copy the selected tasks (as YAML)", "Canvas"),
    ("Ctrl+V", "Paste tasks, in this flow or another", "Canvas"),
    ("Arrow keys", "Move the selected tasks; move through the palette", "Canvas, palette"),
    ("Enter", "Add the focused palette task to the flow", "Palette"),
    ("Escape", "Close a dialog or menu", "Everywhere"),
    ("?", "Show this help", "Everywhere"),
]


class ShortcutHelpState(rx.State):
    open: bool = False

    @rx.event
    def show(self):
        self.open = True

    @rx.event
    def set_open(self, value: bool):
        self.open = value


class ShortcutKeys(rx.Component):
    library = "$/public/shortcut_keys.jsx"
    tag = "ShortcutKeys"

    on_help: rx.EventHandler[rx.event.no_args_event_spec]


def _row(keys: str, action: str, where: str) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.el.kbd(keys, class_name="shortcut-keys")),
        rx.table.cell(action),
        rx.table.cell(rx.text(where, color_scheme="gray", size="1")),
    )


def shortcut_help(compact: bool = False) -> rx.Component:
    """The ``?`` listener, a button opening the help, and the help dialog itself (``compact``: the button is an
    icon, for the editor's narrow sidebar)."""
    return rx.fragment(
        ShortcutKeys.create(on_help=ShortcutHelpState.show),
        rx.dialog.root(
            rx.dialog.trigger(
                rx.button(
                    rx.icon("keyboard", size=14),
                    *([] if compact else ["Shortcuts"]),
                    variant="ghost",
                    size="1",
                    color_scheme="gray",
                    id="shortcut-help-button",
                    aria_label="Keyboard shortcuts (?)",
                )
            ),
            rx.dialog.content(
                rx.dialog.title("Keyboard shortcuts"),
                rx.dialog.description("Keys the studio understands; Cmd stands for Ctrl on a Mac.", size="2"),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(*[rx.table.column_header_cell(h) for h in ("Keys", "Action", "Where")])
                    ),
                    rx.table.body(*[_row(*shortcut) for shortcut in SHORTCUTS]),
                    size="1",
                    margin_top="12px",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", id="shortcut-help-close")),
                    justify="end",
                    margin_top="12px",
                ),
                id="shortcut-help",
                max_width="560px",
            ),
            open=ShortcutHelpState.open,
            on_open_change=ShortcutHelpState.set_open,
        ),
    )
