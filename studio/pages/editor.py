"""The flow editor: palette, canvas and YAML side by side; each side updates the other."""

import json
import re
from typing import Any

import reflex as rx

from engine.problems import FlowInvalid
from engine.yaml_edit import EditError
from studio import services
from studio.components.canvas import flow_canvas, task_palette
from studio.components.layout import page, sidebar
from studio.components.yaml_editor import yaml_editor


class EditorState(rx.State):
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
    execution_id: str = ""
    execution_state: str = ""
    log_lines: list[dict[str, Any]] = []
    log_level: str = "ALL"
    selected: str = ""
    form: list[dict[str, str]] = []
    task_outputs: dict[str, str] = {}
    completions: list[dict[str, str]] = []
    show_yaml: bool = True
    history_open: bool = False
    history: list[dict[str, str]] = []
    diff_rows: list[dict[str, str]] = []
    diff_title: str = ""
    undo_stack: list[str] = []
    redo_stack: list[str] = []
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
        params = self.router.page.params
        self.namespace, self.flow_id = params.get("namespace", ""), params.get("flow_id", "")
        self.palette = services.palette()
        self.completions = services.completions()
        self.undo_stack, self.redo_stack = [], []
        self.saved = services.flow_source(self.namespace, self.flow_id)
        self.positions, self.message = {}, ""
        self._show(self.saved)

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
        self.draft = text
        self._regraph(text)

    def _edit(self, operation: str, **arguments: Any) -> None:
        try:
            changed = services.edit(self.draft, operation, **arguments)
        except EditError as exc:
            self.message = str(exc)
            return
        self.undo_stack = [*self.undo_stack[-49:], self.draft]
        self.redo_stack = []
        self._show(changed)
        self.message = ""

    @rx.event
    def undo(self, _: dict[str, Any] | None = None) -> None:
        """Undo the last canvas or form edit (typing in the YAML has the editor's own undo)."""
        if self.undo_stack:
            self.redo_stack = [*self.redo_stack, self.draft]
            previous, self.undo_stack = self.undo_stack[-1], self.undo_stack[:-1]
            self._show(previous)

    @rx.event
    def redo(self, _: dict[str, Any] | None = None) -> None:
        if self.redo_stack:
            self.undo_stack = [*self.undo_stack, self.draft]
            following, self.redo_stack = self.redo_stack[-1], self.redo_stack[:-1]
            self._show(following)

    @rx.event
    def open_history(self) -> None:
        self.history = services.revisions(self.namespace, self.flow_id)
        self.diff_rows, self.diff_title, self.history_open = [], "", True

    @rx.event
    def close_history(self) -> None:
        self.history_open = False

    @rx.event
    def diff_with_current(self, revision: str) -> None:
        """Side by side: a past revision on the left, what the editor holds now on the right."""
        source = services.revision_source(self.namespace, self.flow_id, int(revision))
        self.diff_rows = services.revision_diff(source, self.draft, f"revision {revision}", "current")
        self.diff_title = f"revision {revision} (left) and the editor (right)"

    @rx.event
    def restore(self, revision: str) -> None:
        """Put a past revision in the editor; saving it makes it the newest revision."""
        source = services.revision_source(self.namespace, self.flow_id, int(revision))
        self.undo_stack = [*self.undo_stack[-49:], self.draft]
        self._show(source)
        self.history_open = False
        self.message = f"revision {revision} restored in the editor: save to keep it"

    @rx.event
    def toggle_yaml(self) -> None:
        self.show_yaml = not self.show_yaml

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
            self.message = services.save_flow(self.draft)
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
        self.run_error, self.run_open = "", True

    @rx.event
    def close_run(self) -> None:
        self.run_open = False

    @rx.event
    def set_run_value(self, input_id: str, value: str) -> None:
        self.run_values = {**self.run_values, input_id: value}

    @rx.event
    def start_run(self):
        from engine.store.executions import InputsInvalid

        if self.dirty:
            self.save()
            if self.dirty:  # the flow has problems: nothing to run
                self.run_error = self.message
                return None
        try:
            self.execution_id = services.start_run(self.namespace, self.flow_id, self.run_values)
        except InputsInvalid as exc:
            self.run_error = "; ".join(exc.errors.values())
            return None
        self.run_open, self.execution_state, self.log_lines, self._log_position = False, "CREATED", [], 0
        self.nodes = [{**n, "state": "", "error": ""} for n in self.nodes]
        return EditorState.follow_run

    @rx.event(background=True)
    async def follow_run(self):
        import asyncio

        while True:
            async with self:
                if not self.execution_id:
                    return
                status = services.run_status(self.execution_id, self._log_position)
                self.execution_state = status["state"]
                tasks = status["tasks"]
                self.task_outputs = {
                    task_id: json.dumps(run["outputs"], indent=2, default=str) for task_id, run in tasks.items()
                }
                self.nodes = [
                    {
                        **n,
                        "state": tasks.get(n["id"], {}).get("state", n.get("state", "")),
                        "error": tasks.get(n["id"], {}).get("error", ""),
                    }
                    for n in self.nodes
                ]
                if status["logs"]:
                    self._log_position = status["logs"][-1]["id"]
                    self.log_lines = (self.log_lines + status["logs"])[-500:]
                if status["state"] in ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"):
                    return
            await asyncio.sleep(0.25)

    @rx.event
    def kill_run(self) -> None:
        if self.execution_id:
            services.kill_run(self.execution_id)

    @rx.event
    def select_task(self, payload: dict[str, Any]) -> None:
        self.selected = "" if payload.get("id") == self.selected else payload.get("id", "")
        self.form = services.task_form(self.draft, self.selected) if self.selected else []

    @rx.event
    def set_field(self, name: str, kind: str, value: str) -> None:
        """A form edit: written into the YAML at once, changing only that property's text."""
        if not self.selected:
            return
        self._edit("set_property", task_id=self.selected, key=name, value=services.form_value(kind, value))
        self.form = services.task_form(self.draft, self.selected)

    @rx.var
    def selected_outputs(self) -> str:
        return self.task_outputs.get(self.selected, "")

    @rx.event
    def set_log_level(self, value: str) -> None:
        self.log_level = value

    @rx.var
    def visible_logs(self) -> list[dict[str, Any]]:
        levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
        floor = 0 if self.log_level == "ALL" else levels.index(self.log_level)
        return [
            line
            for line in self.log_lines
            if (not self.selected or line["task_id"] == self.selected) and levels.index(line["level"]) >= floor
        ]


def editor_page() -> rx.Component:
    return page(
        sidebar(rx.Var.create(["all namespaces"]), "all namespaces", rx.noop),
        rx.hstack(
            rx.heading(EditorState.namespace + "/" + EditorState.flow_id, size="5"),
            rx.cond(EditorState.dirty, rx.badge("unsaved changes", color_scheme="orange", id="dirty-badge")),
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
            rx.button(
                rx.cond(EditorState.show_yaml, "Hide YAML", "Show YAML"),
                on_click=EditorState.toggle_yaml,
                variant="soft",
                id="toggle-yaml",
            ),
            rx.button("History", on_click=EditorState.open_history, variant="soft", id="history-button"),
            rx.button("Save", on_click=EditorState.save, id="save-button"),
            rx.button("Run", on_click=EditorState.open_run, id="run-button", color_scheme="green"),
            rx.cond(
                EditorState.execution_id != "",
                rx.hstack(
                    rx.badge(EditorState.execution_state, id="execution-state"),
                    rx.button(
                        "Kill", on_click=EditorState.kill_run, id="kill-button", color_scheme="red", variant="soft"
                    ),
                ),
            ),
            width="100%",
            align="center",
        ),
        rx.hstack(
            rx.vstack(
                rx.input(
                    placeholder="Search tasks",
                    value=EditorState.search,
                    on_change=EditorState.set_search,
                    id="palette-search",
                ),
                task_palette(items=EditorState.visible_palette),
                width="230px",
                height="75vh",
                overflow_y="auto",
                spacing="2",
                id="palette",
            ),
            rx.box(
                flow_canvas(
                    nodes=EditorState.nodes,
                    edges=EditorState.edges,
                    positions=EditorState.positions,
                    read_only=False,
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
                height="75vh",
                border="1px solid var(--gray-5)",
                border_radius="8px",
                id="canvas",
            ),
            rx.vstack(
                rx.cond(EditorState.selected != "", _form_panel()),
                rx.cond(
                    EditorState.show_yaml,
                    yaml_editor(
                        value=EditorState.text,
                        problems=EditorState.problems,
                        on_change=EditorState.yaml_changed.debounce(350),
                        height="70vh",
                        dirty=EditorState.dirty,
                        completions=EditorState.completions,
                    ),
                ),
                rx.foreach(
                    EditorState.problem_lines,
                    lambda line: rx.text(line, color_scheme="red", size="1", class_name="problem-line"),
                ),
                width="40%",
                id="yaml-pane",
            ),
            width="100%",
            spacing="3",
            margin_top="1em",
        ),
        _run_dialog(),
        _history_dialog(),
        rx.cond(EditorState.execution_id != "", _log_panel()),
    )


def _form_field(field: dict) -> rx.Component:
    name, kind = field["name"].to(str), field["kind"].to(str)
    return rx.hstack(
        rx.text(name, size="1", weight="bold", width="110px"),
        rx.match(
            field["kind"],
            (
                "switch",
                rx.switch(
                    checked=field["value"] == "true",
                    on_change=lambda checked: EditorState.set_field(name, kind, rx.cond(checked, "true", "false")),
                ),
            ),
            (
                "choice",
                rx.select(
                    field["options"].to(str).split(","),
                    value=field["value"].to(str),
                    on_change=lambda v: EditorState.set_field(name, kind, v),
                    size="1",
                ),
            ),
            rx.input(
                default_value=field["value"].to(str),
                on_blur=lambda v: EditorState.set_field(name, kind, v),
                size="1",
                width="100%",
                name=name,
                class_name="form-field",
            ),
        ),
        width="100%",
        align="center",
    )


def _form_panel() -> rx.Component:
    return rx.vstack(
        rx.text("Task " + EditorState.selected, weight="bold", size="2"),
        rx.foreach(EditorState.form, _form_field),
        width="100%",
        padding="0.5em",
        border="1px solid var(--gray-5)",
        border_radius="8px",
        id="form-panel",
        max_height="30vh",
        overflow_y="auto",
    )


def _input_field(item: dict) -> rx.Component:
    return rx.vstack(
        rx.text(item["id"] + " (" + item["type"] + ")", size="2", weight="bold"),
        rx.input(
            value=EditorState.run_values[item["id"]],
            on_change=lambda v: EditorState.set_run_value(item["id"], v),
            custom_attrs={"data-input": item["id"]},
            class_name="run-input",
            width="100%",
        ),
        rx.text(item["description"], size="1", color_scheme="gray"),
        width="100%",
        spacing="1",
    )


def _run_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Run " + EditorState.flow_id),
            rx.vstack(
                rx.foreach(EditorState.run_inputs, _input_field),
                rx.cond(
                    EditorState.run_error != "",
                    rx.text(EditorState.run_error, color_scheme="red", id="run-error", size="2"),
                ),
                rx.hstack(
                    rx.button("Cancel", on_click=EditorState.close_run, variant="soft"),
                    rx.button("Start", on_click=EditorState.start_run, id="start-run", color_scheme="green"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
        ),
        open=EditorState.run_open,
    )


def _log_line(line: dict) -> rx.Component:
    return rx.text(
        line["text"].to(str),
        white_space="pre-wrap",
        font_family="monospace",
        size="1",
        class_name="log-line",
    )


def _log_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Logs", weight="bold"),
            rx.cond(EditorState.selected != "", rx.badge("task " + EditorState.selected)),
            rx.select(
                ["ALL", "DEBUG", "INFO", "WARN", "ERROR"],
                value=EditorState.log_level,
                on_change=EditorState.set_log_level,
                size="1",
            ),
            align="center",
        ),
        rx.box(
            rx.foreach(EditorState.visible_logs, _log_line),
            max_height="25vh",
            overflow_y="auto",
            width="100%",
            id="log-panel",
        ),
        rx.cond(
            EditorState.selected_outputs != "",
            rx.vstack(
                rx.text("Outputs of " + EditorState.selected, weight="bold", size="2"),
                rx.code_block(EditorState.selected_outputs, language="json", id="task-outputs", width="100%"),
                width="100%",
            ),
        ),
        width="100%",
        margin_top="1em",
        padding="0.5em",
        border="1px solid var(--gray-5)",
        border_radius="8px",
    )


def _revision_row(row: dict) -> rx.Component:
    return rx.hstack(
        rx.text("rev " + row["revision"], weight="bold", size="2", width="60px"),
        rx.text(row["created"] + " " + row["author"], size="1", color_scheme="gray"),
        rx.spacer(),
        rx.button("Diff", size="1", variant="soft", on_click=EditorState.diff_with_current(row["revision"])),
        rx.button("Restore", size="1", variant="soft", on_click=EditorState.restore(row["revision"])),
        width="100%",
        class_name="revision-row",
    )


def _diff_row(row: dict) -> rx.Component:
    colour = rx.match(row["kind"], ("equal", "transparent"), ("insert", "#dcfce7"), ("delete", "#fee2e2"), "#fef9c3")
    return rx.grid(
        rx.text(row["left"], font_family="monospace", size="1", white_space="pre", background=colour),
        rx.text(row["right"], font_family="monospace", size="1", white_space="pre", background=colour),
        columns="2",
        width="100%",
        class_name="diff-row",
    )


def _history_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Revisions of " + EditorState.flow_id),
            rx.vstack(
                rx.foreach(EditorState.history, _revision_row),
                rx.cond(EditorState.diff_title != "", rx.text(EditorState.diff_title, size="2", weight="bold")),
                rx.box(
                    rx.foreach(EditorState.diff_rows, _diff_row),
                    max_height="40vh",
                    overflow="auto",
                    width="100%",
                    id="diff-view",
                ),
                rx.button("Close", on_click=EditorState.close_history, variant="soft"),
                width="100%",
            ),
            max_width="1000px",
        ),
        open=EditorState.history_open,
    )
