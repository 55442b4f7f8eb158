"""The editor's revision history: the flow's past revisions, diffs side by side, and restoring one."""

from dataclasses import dataclass
from typing import Any

import reflex as rx

from studio import display, services
from studio.pages.editor.state import EditorState

EDITOR_TEXT = "the editor"


@dataclass
class Revision:
    revision: str
    created: str
    author: str
    deleted: str  # "yes" for a revision that deleted the flow

    @classmethod
    def of(cls, found: dict[str, Any]) -> "Revision":
        """From ``services.revisions`` (typed)."""
        return cls(
            revision=str(found["revision"]),
            created=display.when(found["created"]),
            author=display.or_none(found["author"]),
            deleted=display.yes(found["deleted"]),
        )


@dataclass
class DiffRow:
    """One line of each side: ``kind`` is difflib's tag (equal, replace, insert, delete)."""

    left: str
    right: str
    kind: str


class HistoryState(EditorState):
    history_open: bool = False
    history: list[Revision] = []
    diff_rows: list[DiffRow] = []
    diff_title: str = ""
    compare_with: str = EDITOR_TEXT

    @rx.event
    def open_history(self) -> None:
        found = services.revisions(self.principal(), self.namespace, self.flow_id)
        self.history = [Revision.of(revision) for revision in found]
        self.diff_rows, self.diff_title, self.history_open = [], "", True

    @rx.event
    def close_history(self) -> None:
        self.history_open = False

    @rx.var
    def compare_choices(self) -> list[str]:
        return [EDITOR_TEXT, *[f"revision {r.revision}" for r in self.history]]

    @rx.event
    def set_compare_with(self, value: str) -> None:
        self.compare_with = value

    @rx.event
    def diff_with_current(self, revision: str) -> None:
        """Side by side: a past revision on the left; on the right the editor's text, or another revision."""
        principal = self.principal()
        source = services.revision_source(principal, self.namespace, self.flow_id, int(revision))
        if self.compare_with == EDITOR_TEXT:
            other, name = self._draft, "the editor"
        else:
            name = self.compare_with
            number = int(name.removeprefix("revision "))
            other = services.revision_source(principal, self.namespace, self.flow_id, number)
        self.diff_rows = [DiffRow(**row) for row in services.revision_diff(source, other, f"revision {revision}", name)]
        self.diff_title = f"revision {revision} (left) and {name} (right)"

    @rx.event
    def restore(self, revision: str) -> None:
        """Put a past revision in the editor; saving it makes it the newest revision."""
        if not self.can_edit:
            self.message = self.read_only_note
            return
        source = services.revision_source(self.principal(), self.namespace, self.flow_id, int(revision))
        self._remember_for_undo()
        self._show(source)
        self.history_open = False
        self.message = f"revision {revision} restored in the editor: save to keep it"
