"""The editor's state: the flow text, the canvas drawn from it, the forms, the run being watched."""

import json
import re
from collections.abc import Callable
from typing import Any

import reflex as rx

from engine.core.states import TERMINAL
from engine.flows.problems import FlowInvalid
from engine.flows.yaml_edit import EditError
from engine.identity import authz
from engine.identity.policy import Action, can, role_in
from engine.workspace import uploads
from studio import live, services
from studio.components.file_drop import read_chosen
from studio.forms import FieldError
from studio.services import executions as runs
from studio.session import SessionState

EDITOR_TEXT = "the editor"


class EditorState(SessionState):
    namespace: str = ""
    flow_id: str = ""
    text: str = ""  # what the editor shows: written when the canvas changes the flow
    draft: str = ""  # what the user typed last
    saved: str = ""
    problems: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    positions: dict[str, Any] = {}
    palette: list[dict[str, str]] = []
    search: str = ""
    message: str = ""
    run_open: bool = False
    run_inputs: list[dict[str, str]] = []
    run_values: dict[str, str] = {}
    run_error: str = ""
    run_errors: dict[str, str] = {}
    run_files: dict[str, str] = {}  # FILE input -> the name of the file chosen for it (its value is the stored path)
    execution_id: str = ""
    execution_state: str = ""
    log_lines: list[dict[str, Any]] = []
    log_level: str = "ALL"
    log_search: str = ""
    selected: str = ""
    form: list[dict[str, Any]] = []
    form_error: str = ""
    names: list[dict[str, str]] = []
    task_outputs: dict[str, Any] = {}
    completions: list[dict[str, str]] = []
    pane: str = "yaml"  # the right pane shows the YAML, the form, or nothing
    history_open: bool = False
    history: list[dict[str, str]] = []
    diff_rows: list[dict[str, str]] = []
    diff_title: str = ""
    compare_with: str = EDITOR_TEXT
    undo_stack: list[str] = []
    redo_stack: list[str] = []
    # What the signed-in person may do here, set at load: the page hides what they may not (the services
    # check again on every call, so these only spare them a refusal).
    can_edit: bool = False
    can_run: bool = False
    can_share: bool = False
    read_only_note: str = ""
    missing: str = ""  # the flow may not be read (or does not exist): the page shows only this
    _log_position: int = 0

    @rx.var
    def dirty(self) -> bool:
        return self.draft != self.saved

    @rx.var
    def problem_lines(self) -> list[str]:
        return [f"{p['line']}:{p['column']}: {p['message']}" for p in self.problems]

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
            self.saved = services.flow_source(principal, self.namespace, self.flow_id)
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
        self.undo_stack, self.redo_stack = [], []
        self.positions, self.message, self.selected, self.form_error = {}, "", "", ""
        self.execution_id, self.task_outputs, self.log_lines = "", {}, []
        self._show(self.saved)
        revision = params.get("revision", "")
        if revision.isdigit():  # the revision an execution ran, opened from its page
            self.undo_stack = [self.draft]
            self._show(services.revision_source(principal, self.namespace, self.flow_id, int(revision)))
            self.message = f"revision {revision} shown" + (": save to make it the newest" if self.can_edit else "")
        self._refresh_form()

    def _show(self, text: str) -> None:
        """The canvas follows ``text``; when it does not parse, the canvas stays as it was."""
        self.text = self.draft = text
        self._regraph(text)

    def _regraph(self, text: str) -> None:
        nodes, edges, problems = services.graph_of(text)
        self.problems = problems
        if not problems:
            self.nodes, self.edges = nodes, edges
            return
        # The canvas stays as it was; the nodes a problem names get its message as a badge.
        errors: dict[str, str] = {}
        for problem in problems:
            match = re.match(r"task '([^']+)': (.*)", problem["message"])
            if match:
                errors.setdefault(match.group(1), f"line {problem['line']}: {match.group(2)}")
        self.nodes = [{**n, "error": errors.get(n["id"], "")} for n in self.nodes]

    @rx.var
    def flow_key(self) -> str:
        return f"{self.namespace}/{self.flow_id}"

    @rx.event
    def yaml_changed(self, text: str) -> None:
        if not self.can_edit:  # the editor is read-only for them; nothing typed is kept
            return
        self.draft = text
        self._regraph(text)
        if not self.problems:
            self._refresh_form()

    def _edit(self, operation: str, **arguments: Any) -> None:
        self._change(lambda text: services.edit(text, operation, **arguments))

    def _change(self, change: Callable[[str], str]) -> None:
        """Apply one canvas or form edit to the text; it can be undone."""
        if not self.can_edit:
            self.message = self.read_only_note
            return
        try:
            changed = change(self.draft)
        except (EditError, FieldError) as exc:
            self.message = self.form_error = str(exc)
            return
        if changed == self.draft:
            return
        self.undo_stack = [*self.undo_stack[-49:], self.draft]
        self.redo_stack = []
        self._show(changed)
        self.message = self.form_error = ""
        self._refresh_form()

    def _refresh_form(self) -> None:
        """The form follows the text: the selected task's properties, or the flow's settings."""
        self.form = services.task_form(self.draft, self.selected) if self.selected else services.flow_form(self.draft)
        self.names = services.expression_names(self.draft, self.task_outputs)

    @rx.event
    def undo(self, _: dict[str, Any] | None = None) -> None:
        """Undo the last canvas or form edit (typing in the YAML has the editor's own undo)."""
        if self.undo_stack:
            self.redo_stack = [*self.redo_stack, self.draft]
            previous, self.undo_stack = self.undo_stack[-1], self.undo_stack[:-1]
            self._show(previous)
            self._refresh_form()

    @rx.event
    def redo(self, _: dict[str, Any] | None = None) -> None:
        if self.redo_stack:
            self.undo_stack = [*self.undo_stack, self.draft]
            following, self.redo_stack = self.redo_stack[-1], self.redo_stack[:-1]
            self._show(following)
            self._refresh_form()

    @rx.event
    def open_history(self) -> None:
        self.history = services.revisions(self.principal(), self.namespace, self.flow_id)
        self.diff_rows, self.diff_title, self.history_open = [], "", True

    @rx.event
    def close_history(self) -> None:
        self.history_open = False

    @rx.var
    def compare_choices(self) -> list[str]:
        return [EDITOR_TEXT, *[f"revision {r['revision']}" for r in self.history]]

    @rx.event
    def set_compare_with(self, value: str) -> None:
        self.compare_with = value

    @rx.event
    def diff_with_current(self, revision: str) -> None:
        """Side by side: a past revision on the left; on the right the editor's text, or another revision."""
        principal = self.principal()
        source = services.revision_source(principal, self.namespace, self.flow_id, int(revision))
        if self.compare_with == EDITOR_TEXT:
            other, name = self.draft, "the editor"
        else:
            name = self.compare_with
            number = int(name.removeprefix("revision "))
            other = services.revision_source(principal, self.namespace, self.flow_id, number)
        self.diff_rows = services.revision_diff(source, other, f"revision {revision}", name)
        self.diff_title = f"revision {revision} (left) and {name} (right)"

    @rx.event
    def restore(self, revision: str) -> None:
        """Put a past revision in the editor; saving it makes it the newest revision."""
        if not self.can_edit:
            self.message = self.read_only_note
            return
        source = services.revision_source(self.principal(), self.namespace, self.flow_id, int(revision))
        self.undo_stack = [*self.undo_stack[-49:], self.draft]
        self._show(source)
        self.history_open = False
        self.message = f"revision {revision} restored in the editor: save to keep it"

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
    def drop_task(self, payload: dict[str, Any]) -> None:
        task = services.new_task(self.draft, payload["type"])
        self.positions = {**self.positions, task["id"]: {"x": payload.get("x", 0), "y": payload.get("y", 0)}}
        self._edit("insert_task", task=task, **services.drop_target(self.draft, payload.get("parent") or ""))

    @rx.event
    def connect_tasks(self, payload: dict[str, Any]) -> None:
        self._edit("connect", source_id=payload["source"], target_id=payload["target"])

    @rx.event
    def delete_tasks(self, payload: dict[str, Any]) -> None:
        for task_id in payload.get("ids", []):
            self._edit("delete_task", task_id=task_id)

    @rx.event
    def delete_edge(self, payload: dict[str, Any]) -> None:
        self._edit("disconnect", source_id=payload["source"], target_id=payload["target"])

    @rx.event
    def move_task(self, payload: dict[str, Any]) -> None:
        self.positions = {**self.positions, payload["id"]: {"x": payload["x"], "y": payload["y"]}}

    @rx.event
    def save(self) -> None:
        try:
            self.message = services.save_flow(self.principal(), self.draft)
            self.saved = self.draft
        except FlowInvalid as exc:
            self.problems = [p.as_dict() for p in exc.problems]
            self.message = f"not saved: {len(exc.problems)} problem(s)"

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value

    # --- running -----------------------------------------------------------------------------

    @rx.event
    def open_run(self) -> None:
        self.run_inputs = services.flow_inputs(self.draft)
        self.run_values = {i["id"]: i["default"] for i in self.run_inputs}
        self.run_error, self.run_errors, self.run_files, self.run_open = "", {}, {}, True

    @rx.event
    def close_run(self) -> None:
        self.run_open = False

    @rx.event
    def set_run_value(self, input_id: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        self.run_values = {**self.run_values, input_id: text}

    @rx.event
    async def upload_run_file(self, files: list[rx.UploadFile], input_id: str) -> None:
        """A file chosen for a FILE input: stored for this flow as the API stores an upload; its path is the value."""
        chosen = await read_chosen(files)
        if chosen is None:
            return
        name, data = chosen
        try:
            path = services.store_run_file(self.principal(), self.namespace, self.flow_id, input_id, name, data)
        except (uploads.UploadRefused, authz.Forbidden, authz.NotVisible) as exc:
            self.run_errors = {**self.run_errors, input_id: str(exc)}
            return
        self.run_values = {**self.run_values, input_id: path}
        self.run_files = {**self.run_files, input_id: uploads.stored_name(name, input_id)}
        self.run_errors = {k: v for k, v in self.run_errors.items() if k != input_id}

    @rx.event
    def toggle_run_choice(self, input_id: str, choice: str, picked: bool) -> None:
        """A MULTISELECT input's box: the value is the picked choices, comma-separated."""
        current = [v for v in self.run_values.get(input_id, "").split(",") if v and v != choice]
        self.run_values = {**self.run_values, input_id: ",".join([*current, choice] if picked else current)}

    @rx.event
    def start_run(self):
        from engine.flows.inputs import InputsInvalid

        if self.dirty:
            self.save()
            if self.dirty:  # the flow has problems: nothing to run
                self.run_error = self.message
                return None
        try:
            self.execution_id = services.start_run(self.principal(), self.namespace, self.flow_id, self.run_values)
        except InputsInvalid as exc:
            self.run_error = "; ".join(exc.errors.values())
            self.run_errors = exc.errors
            return None
        self.run_open, self.log_lines, self._log_position = False, [], 0
        self._poll_run(self.principal())
        return EditorState.follow_run

    def _poll_run(self, principal: Any) -> bool:
        """The badge, the nodes, the outputs and new log lines, all from one read of the run; True once it ended."""
        status = services.run_status(principal, self.execution_id, self._log_position)
        self.execution_state = status["state"]
        tasks = status["tasks"]
        self.task_outputs = {task_id: run["outputs"] for task_id, run in tasks.items() if run["outputs"]}
        self.nodes = [{**n, **services.node_run_view(tasks.get(n["id"]))} for n in self.nodes]
        if status["logs"]:
            self._log_position = status["logs"][-1]["id"]
            self.log_lines = (self.log_lines + status["logs"])[-500:]
        return status["state"] in TERMINAL

    @rx.event(background=True)
    async def follow_run(self):
        """The run, at each change: new lines from the process's follower of the execution; the badge, nodes
        and outputs re-read (with access) only when a task may have moved, or on a quiet tick."""
        async with self:
            principal = self.principal()  # asked once per run followed: each re-read is checked against it
            execution_id, after = self.execution_id, self._log_position
        if not execution_id:
            return
        async with live.watch(execution_id, after) as updates:
            async for update in updates:
                async with self:
                    if self.execution_id != execution_id:
                        return
                    if update.tasks_changed or update.ended:
                        self._poll_run(principal)
                    else:
                        runs.require(principal, Action.READ, execution_id)
                    fresh = [services.log_row(line) for line in update.lines if line.id > self._log_position]
                    if fresh:
                        self._log_position = fresh[-1]["id"]
                        self.log_lines = (self.log_lines + fresh)[-500:]

    @rx.var
    def run_ended(self) -> bool:
        return self.execution_state in TERMINAL

    @rx.event
    def kill_run(self) -> None:
        if not self.execution_id or self.run_ended:
            return
        try:
            services.kill_run(self.principal(), self.execution_id)
        except ValueError as exc:  # it ended meanwhile
            self.message = str(exc)

    @rx.event
    def select_task(self, payload: dict[str, Any]) -> None:
        self.selected = "" if payload.get("id") == self.selected else payload.get("id", "")
        self.form_error = ""
        self._refresh_form()

    @rx.event
    def set_field(self, name: str, value: Any) -> None:
        """A form edit: written into the YAML at once, changing only that property's text."""
        kind = next((f["kind"] for f in self.form if f["name"] == name), "text")
        task_id = self.selected

        def change(text: str) -> str:
            value_written = services.form_value(kind, value, name)
            if task_id:
                return services.edit(text, "set_property", task_id=task_id, key=name, value=value_written)
            return services.set_flow_setting(text, name, value_written)

        self._change(change)

    @rx.event
    def commit_field(self, payload: dict[str, Any]) -> None:
        """What a code field or a map/list/records widget reports when focus leaves it."""
        self.set_field(payload["name"], payload.get("value"))

    @rx.var
    def selected_outputs(self) -> str:
        outputs = self.task_outputs.get(self.selected)
        return json.dumps(outputs, indent=2, default=str) if outputs else ""

    @rx.event
    def set_log_level(self, value: str) -> None:
        self.log_level = value

    @rx.event
    def set_log_search(self, value: str) -> None:
        self.log_search = value

    @rx.var
    def visible_logs(self) -> list[dict[str, Any]]:
        wanted = {"task_id": self.selected, "level": self.log_level, "search": self.log_search}
        return services.visible_logs(self.log_lines, **wanted)


def _a(role: Any) -> str:
    """'a viewer', 'an operator': how the read-only badge names the person's role."""
    if role is None:
        return "not a member"
    return f"{'an' if role.value[0] in 'aeiou' else 'a'} {role.value}"
