"""The editor's run: the inputs dialog, starting the flow, and following the run live on the canvas and in the logs."""

from dataclasses import dataclass
from typing import Any

import reflex as rx

from engine.core.states import TERMINAL
from engine.identity import authz
from engine.identity.policy import Action
from engine.workspace import uploads
from studio import display, live, services
from studio.components.file_drop import read_chosen
from studio.components.logs import LogLine, LogPanelState
from studio.components.output_files import FilePreview, OutputFile, OutputFilesState
from studio.pages.editor.state import EditorState
from studio.services import executions as runs

KEEP_LINES = 500  # the newest lines of the run; the execution page keeps more (and offers the whole log)


@dataclass
class RunInput:
    """One of the flow's inputs as the run dialog asks for it: ``widget`` picks the field that edits it."""

    id: str
    type: str
    widget: str
    options: list[str]
    required: bool
    default: str
    description: str


class RunState(OutputFilesState, LogPanelState, EditorState):
    run_open: bool = False
    run_inputs: list[RunInput] = []
    run_values: dict[str, str] = {}
    run_error: str = ""
    run_errors: dict[str, str] = {}
    run_files: dict[str, str] = {}  # FILE input -> the name of the file chosen for it (its value is the stored path)
    execution_id: str = ""
    execution_state: str = ""
    run_waiting: str = ""  # why its task runs not started yet wait (no live worker in their group...)

    @rx.event
    def open_run(self) -> None:
        self.run_inputs = [RunInput(**given) for given in services.flow_inputs(self._draft)]
        self.run_values = {given.id: given.default for given in self.run_inputs}
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
        self.files, self.preview = [], FilePreview()
        self._poll_run(self.principal())
        return RunState.follow_run

    def _poll_run(self, principal: Any) -> bool:
        """The badge, the nodes, the outputs and new log lines, all from one read of the run; True once it ended."""
        status = services.run_status(principal, self.execution_id, self._log_position)
        self.execution_state, self.run_waiting = status["state"], status["waiting"]
        tasks = status["tasks"]
        self.task_outputs = {task_id: run["outputs"] for task_id, run in tasks.items() if run["outputs"]}
        self.nodes = [display.canvas_node({**n, **services.node_run_view(tasks.get(n["id"]))}) for n in self.nodes]
        self._add_lines([LogLine.of(row) for row in status["logs"]], KEEP_LINES)
        self._read_files(principal, self.execution_id)
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
                    self._add_lines([LogLine.of(services.log_row(line)) for line in update.lines], KEEP_LINES)

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

    @rx.var
    def selected_outputs(self) -> str:
        outputs = self.task_outputs.get(self.selected)
        return display.json_block(outputs) if outputs else ""

    @rx.var
    def selected_files(self) -> list[OutputFile]:
        """The files the selected task stored in the run followed."""
        return [f for f in self.files if f.task_id == self.selected]

    @rx.var
    def visible_logs(self) -> list[LogLine]:
        """The selected task's lines (all of them when no task is selected), filtered."""
        return self._shown_lines(self.selected)
