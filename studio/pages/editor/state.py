"""The editor's base state: the flow text and the canvas drawn from it, edits, undo and saving.

Its substates hold the rest: the forms (forms.py), the revision history (history.py), the run (run.py)."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import reflex as rx

from engine.flows.problems import FlowInvalid, Problem
from engine.flows.yaml_edit import EditError
from engine.identity.policy import Action, can, role_in
from studio import services
from studio.forms import FieldError
from studio.services import messages, placement
from studio.session import SessionState


class EditorState(SessionState):
    namespace: str = ""
    flow_id: str = ""
    text: str = ""  # what the editor shows: written when the canvas changes the flow
    # The draft, the saved text and the form's text (below) stay on the server: each is the whole flow (~80 KB at
    # 1,000 tasks) and the page shows only ``text`` and whether they differ (``dirty``).
    _draft: str = ""  # what the user typed last
    _saved: str = ""
    problems: list[Problem] = []
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    positions: dict[str, Any] = {}
    palette: list[dict[str, str]] = []
    search: str = ""
    message: str = ""
    selected: str = ""
    _form_text: str = ""  # the text the form shows: the draft, as of the last edit that parsed
    form_error: str = ""
    task_outputs: dict[str, Any] = {}  # of the run followed (run.py): the forms complete them, the log panel shows them
    completions: list[dict[str, str]] = []
    pane: str = "yaml"  # the right pane shows the YAML, the form, or nothing
    # The texts to undo and redo stay on the server (a 1,000-task flow's text is ~80 KB, and every edit would send
    # them all again); the page only needs to know whether there are any.
    _undo_stack: list[str] = []
    _redo_stack: list[str] = []
    can_undo: bool = False
    can_redo: bool = False
    # What the signed-in person may do here, set at load: the page hides what they may not (the services
    # check again on every call, so these only spare them a refusal).
    can_edit: bool = False
    can_run: bool = False
    can_share: bool = False
    read_only_note: str = ""
    missing: str = ""  # the flow may not be read (or does not exist): the page shows only this

    @rx.var
    def dirty(self) -> bool:
        return self._draft != self._saved

    @rx.var
    def problem_notes(self) -> list[dict[str, str]]:
        """The problems as people read them (``messages``), each with its raw wording when it was rewritten."""
        notes = []
        for problem in self.problems:
            explained = messages.yaml_problem(problem.line, problem.column, problem.message)
            notes.append({"text": explained.text, "raw": explained.raw if explained.rewritten else ""})
        return notes

    @rx.var
    def visible_palette(self) -> list[dict[str, str]]:
        needle = self.search.lower()
        return [e for e in self.palette if not needle or needle in f"{e['title']} {e['type']} {e['summary']}".lower()]

    @rx.event
    def load(self) -> None:
        pane = self.pane  # the one choice kept from flow to flow
        self.reset()  # nothing of the previous flow stays on screen, whether or not this one may be read
        self.pane = pane
        params = self.router.page.params
        self.namespace, self.flow_id = params.get("namespace", ""), params.get("flow_id", "")
        principal = self.principal()
        try:
            self._saved = services.flow_source(principal, self.namespace, self.flow_id)
        except LookupError:  # a missing flow, or one of a namespace the person may not read (NotVisible)
            self.missing = f"no flow {self.namespace}/{self.flow_id}"
            return
        self.can_edit = can(principal, Action.EDIT_FLOW, self.namespace)
        self.can_run = can(principal, Action.RUN, self.namespace)
        self.can_share = can(principal, Action.SHARE, self.namespace)
        role = role_in(principal.memberships, self.namespace)
        self.read_only_note = "" if self.can_edit else f"read only — you are {_a(role)} of {self.namespace}"
        self.palette = services.palette()
        self.completions = services.completions()
        self._set_stacks([], [])
        self.positions, self.message, self.selected, self.form_error = {}, "", "", ""
        self.task_outputs = {}
        self._show(self._saved)
        revision = params.get("revision", "")
        if revision.isdigit():  # the revision an execution ran, opened from its page
            self._set_stacks([self._draft], [])
            self._show(services.revision_source(principal, self.namespace, self.flow_id, int(revision)))
            self.message = f"revision {revision} shown" + (": save to make it the newest" if self.can_edit else "")
        self._refresh_form()

    def _show(self, text: str) -> None:
        """The canvas follows ``text``; when it does not parse, the canvas stays as it was."""
        self.text = self._draft = text
        self._regraph(text)

    def _regraph(self, text: str) -> None:
        nodes, edges, found = services.graph_of(text)
        self.problems = problems = [Problem(**problem) for problem in found]
        if not problems:
            self.nodes, self.edges = nodes, edges
            return
        # The canvas stays as it was; the nodes a problem names get its message as a badge.
        errors: dict[str, str] = {}
        for problem in problems:
            match = re.match(r"task '([^']+)': (.*)", problem.message)
            if match:
                errors.setdefault(match.group(1), f"line {problem.line}: {match.group(2)}")
        self.nodes = [{**n, "error": errors.get(n["id"], "")} for n in self.nodes]

    @rx.var
    def flow_key(self) -> str:
        return f"{self.namespace}/{self.flow_id}"

    @rx.event
    def yaml_changed(self, text: str) -> None:
        if not self.can_edit:  # the editor is read-only for them; nothing typed is kept
            return
        self._draft = text
        self._regraph(text)
        if not self.problems:
            self._refresh_form()

    def _change(self, change: Callable[[str], str]) -> None:
        """Apply one canvas or form edit to the text; it can be undone."""
        if self._change_text(change):
            self._follow_text()

    def _change_in_steps(self, change: Callable[[str], str]) -> Iterator[None]:
        """``_change`` for the canvas' edits, in two updates: the new text goes to the page at once, the canvas
        and the form once it is checked (on a 1,000-task flow reading and checking take a few hundred ms)."""
        if self._change_text(change):
            yield
            self._follow_text()

    def _change_text(self, change: Callable[[str], str]) -> bool:
        """The text after ``change`` (remembered for undo); False when refused or unchanged. ``_follow_text``
        brings the canvas and the form to it."""
        if not self.can_edit:
            self.message = self.read_only_note
            return False
        try:
            changed = change(self._draft)
        except (EditError, FieldError) as exc:
            self.message = self.form_error = str(exc)
            return False
        if changed == self._draft:
            return False
        self._remember_for_undo()
        self.text = self._draft = changed
        self.message = self.form_error = ""
        return True

    def _follow_text(self) -> None:
        self._regraph(self._draft)
        self._refresh_form()

    def _remember_for_undo(self) -> None:
        """The text as it is now is what Undo brings back (a new change forgets what Redo had)."""
        self._set_stacks([*self._undo_stack[-49:], self._draft], [])

    def _set_stacks(self, undo: list[str], redo: list[str]) -> None:
        self._undo_stack, self._redo_stack = undo, redo
        self.can_undo, self.can_redo = bool(undo), bool(redo)

    def _refresh_form(self) -> None:
        """The form (forms.py) follows the text: the selected task's properties, or the flow's settings."""
        self._form_text = self._draft

    @rx.event
    def undo(self, _: dict[str, Any] | None = None) -> None:
        """Undo the last canvas or form edit (typing in the YAML has the editor's own undo)."""
        if self._undo_stack:
            previous = self._undo_stack[-1]
            self._set_stacks(self._undo_stack[:-1], [*self._redo_stack, self._draft])
            self._show(previous)
            self._refresh_form()

    @rx.event
    def redo(self, _: dict[str, Any] | None = None) -> None:
        if self._redo_stack:
            following = self._redo_stack[-1]
            self._set_stacks([*self._undo_stack, self._draft], self._redo_stack[:-1])
            self._show(following)
            self._refresh_form()

    @rx.event
    def set_pane(self, pane: str) -> None:
        self.pane = pane
        if pane == "form":
            self._refresh_form()

    @rx.event
    def flow_settings(self) -> None:
        """Open the flow-level settings form (no task selected)."""
        self.selected, self.pane = "", "form"
        self._refresh_form()

    @rx.event
    def drop_task(self, payload: dict[str, Any]) -> Iterator[None]:
        task = services.new_task(self._draft, payload["type"])
        self.positions = {**self.positions, task["id"]: {"x": payload.get("x", 0), "y": payload.get("y", 0)}}
        after = "" if payload.get("parent") else payload.get("after") or ""
        if after:  # dropped just under a node: it runs after that one
            yield from self._change_in_steps(lambda text: placement.insert_after(text, task, after))
            return
        target = services.drop_target(self._draft, payload.get("parent") or "")
        yield from self._change_in_steps(lambda text: services.edit(text, "insert_task", task=task, **target))

    @rx.event
    def add_task_after_selected(self, payload: dict[str, Any]) -> Iterator[None]:
        """A palette item chosen with the keyboard: the task follows the selected one (or the last), and is
        selected in turn, so Enter after Enter builds a sequence."""
        task = services.new_task(self._draft, payload["type"])
        task_ids = {node["id"] for node in self.nodes}
        anchor = self.selected if self.selected in task_ids and "$" not in self.selected else ""
        anchor = anchor or placement.last_task(self._draft)
        if anchor:
            yield from self._change_in_steps(lambda text: placement.insert_after(text, task, anchor))
        else:
            yield from self._change_in_steps(lambda text: services.edit(text, "insert_task", task=task))
        if any(node["id"] == task["id"] for node in self.nodes):
            self.selected = task["id"]
            self._refresh_form()

    @rx.event
    def focus_task(self, payload: dict[str, Any]) -> None:
        """The keyboard moved the selection to a node (a click toggles it: ``select_task``)."""
        self.selected = payload.get("id", "")
        self.form_error = ""
        self._refresh_form()

    @rx.event
    def open_task_form(self, payload: dict[str, Any]) -> None:
        """Enter on a node: its form."""
        self.selected, self.pane, self.form_error = payload.get("id", ""), "form", ""
        self._refresh_form()

    @rx.event
    def connect_tasks(self, payload: dict[str, Any]) -> Iterator[None]:
        source, target = payload["source"], payload["target"]
        yield from self._change_in_steps(
            lambda text: services.edit(text, "connect", source_id=source, target_id=target)
        )

    @rx.event
    def delete_tasks(self, payload: dict[str, Any]) -> Iterator[None]:
        changed = [
            self._change_text(lambda text, i=task_id: services.edit(text, "delete_task", task_id=i))
            for task_id in payload.get("ids", [])
        ]  # one undo step each, as before
        if any(changed):
            yield
            self._follow_text()

    @rx.event
    def delete_edge(self, payload: dict[str, Any]) -> Iterator[None]:
        source, target = payload["source"], payload["target"]
        yield from self._change_in_steps(
            lambda text: services.edit(text, "disconnect", source_id=source, target_id=target)
        )

    @rx.event
    def move_task(self, payload: dict[str, Any]) -> None:
        self.positions = {**self.positions, payload["id"]: {"x": payload["x"], "y": payload["y"]}}

    @rx.event
    def save_shortcut(self, payload: dict[str, Any]) -> None:
        """Ctrl+S (Cmd+S): from the YAML editor ``{text}`` is the text as typed, not yet sent (typing is debounced)."""
        if not self.can_edit:
            self.message = self.read_only_note
            return
        typed = payload.get("text")
        if isinstance(typed, str) and typed != self._draft:
            self.yaml_changed(typed)
        if self._draft == self._saved:
            self.message = "nothing to save: no changes since the last save"
            return
        self.save()

    @rx.event
    def save(self) -> None:
        if not self.can_edit:  # the service refuses too; this spares them the refusal's wording
            self.message = self.read_only_note
            return
        try:
            self.message = services.save_flow(self.principal(), self._draft)
            self._saved = self._draft
        except FlowInvalid as exc:
            self.problems = list(exc.problems)
            self.message = f"not saved: {len(exc.problems)} problem(s)"

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value

    @rx.event
    def select_task(self, payload: dict[str, Any]) -> None:
        self.selected = "" if payload.get("id") == self.selected else payload.get("id", "")
        self.form_error = ""
        self._refresh_form()


def _a(role: Any) -> str:
    """'a viewer', 'an operator': how the read-only badge names the person's role."""
    if role is None:
        return "not a member"
    return f"{'an' if role.value[0] in 'aeiou' else 'a'} {role.value}"
