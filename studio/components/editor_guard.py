"""The editor's guard (``assets/editor_guard.jsx``): asks before leaving with unsaved changes; Ctrl+S saves."""

import reflex as rx

from studio.components.events import payload


class EditorGuard(rx.Component):
    library = "$/public/editor_guard.jsx"
    tag = "EditorGuard"

    dirty: rx.Var[bool]

    on_save: rx.EventHandler[payload]


editor_guard = EditorGuard.create
