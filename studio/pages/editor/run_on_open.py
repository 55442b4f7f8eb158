"""``/flows/<namespace>/<id>?run=1`` opens the editor with its Run dialog open: where the Flows list's Run button
sends a flow that asks for inputs (one without inputs starts from the list directly)."""

import reflex as rx

from studio.pages.editor.run import RunState
from studio.pages.editor.state import EditorState


class RunOnOpenState(RunState):
    @rx.event
    def open_if_asked(self) -> None:
        if self.router.page.params.get("run") == "1" and self.can_run:
            self.open_run()


def run_on_open() -> rx.Component:
    """Nothing to see: mounted once the flow is loaded (its text is known), it opens the Run dialog if asked."""
    return rx.cond(EditorState.text != "", rx.box(on_mount=RunOnOpenState.open_if_asked, display="none"))
