"""Copy and paste of canvas nodes (``assets/clipboard.jsx`` listens for the keys; ``studio.services.clipboard`` makes
and reads the YAML): Ctrl+C puts the selected nodes' YAML on the clipboard (and in localStorage, where a browser
refuses the clipboard), Ctrl+V in any flow's editor inserts them through the byte-preserving edits, undoably."""

import json
from typing import Any

import reflex as rx

from studio.components.events import payload
from studio.pages.editor.state import EditorState
from studio.services import clipboard

STORAGE_KEY = "lanner:clipboard"  # the fallback assets/clipboard.jsx reads


class FlowClipboard(rx.Component):
    library = "$/public/clipboard.jsx"
    tag = "FlowClipboard"

    read_only: rx.Var[bool]
    on_copy_nodes: rx.EventHandler[payload]
    on_paste_nodes: rx.EventHandler[payload]


class ClipboardState(EditorState):
    @rx.event
    def copy_nodes(self, given: dict[str, Any]):
        copied = clipboard.copy_tasks(self._draft, [str(i) for i in given.get("ids", [])])
        if not copied:
            return None
        count = copied.count("\n- id:") + copied.startswith("- id:")
        self.message = f"copied {count} task(s): paste them with Ctrl+V, here or in another flow"
        text = json.dumps(copied)
        return rx.call_script(
            f"window.localStorage.setItem({json.dumps(STORAGE_KEY)}, {text});"
            f"navigator.clipboard && navigator.clipboard.writeText({text}).catch(() => {{}});"
        )

    @rx.event
    def paste_nodes(self, given: dict[str, Any]) -> None:
        if not self.can_edit:
            self.message = self.read_only_note
            return
        clip = next((t for t in (given.get("text"), given.get("fallback")) if _holds_tasks(t)), None)
        if clip is None:
            self.message = "nothing to paste: select nodes and press Ctrl+C first"
            return
        pasted: list[str] = []

        def paste(text: str) -> str:
            changed, ids = clipboard.paste_tasks(text, clip)
            pasted.extend(ids)
            return changed

        self._change(paste)
        if pasted:
            self.message = "pasted " + ", ".join(pasted)


def _holds_tasks(text: Any) -> bool:
    try:
        clipboard.pasted_tasks(str(text or ""))
    except clipboard.NotTasks:
        return False
    return True


def flow_clipboard() -> rx.Component:
    """Nothing to see: the keys of copy and paste on the canvas."""
    return FlowClipboard.create(
        read_only=~EditorState.can_edit,
        on_copy_nodes=ClipboardState.copy_nodes,
        on_paste_nodes=ClipboardState.paste_nodes,
    )
