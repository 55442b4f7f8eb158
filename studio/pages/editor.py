"""The flow editor: palette, canvas and YAML side by side; each side updates the other."""

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

    @rx.event
    def yaml_changed(self, text: str) -> None:
        self.draft = text
        self._regraph(text)

    def _edit(self, operation: str, **arguments: Any) -> None:
        try:
            self._show(services.edit(self.draft, operation, **arguments))
            self.message = ""
        except EditError as exc:
            self.message = str(exc)

    @rx.event
    def drop_task(self, payload: dict[str, Any]) -> None:
        task = services.new_task(self.draft, payload["type"])
        self.positions = {**self.positions, task["id"]: {"x": payload.get("x", 0), "y": payload.get("y", 0)}}
        self._edit("insert_task", task=task)

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


def editor_page() -> rx.Component:
    return page(
        sidebar(rx.Var.create(["all namespaces"]), "all namespaces", rx.noop),
        rx.hstack(
            rx.heading(EditorState.namespace + "/" + EditorState.flow_id, size="5"),
            rx.cond(EditorState.dirty, rx.badge("unsaved changes", color_scheme="orange", id="dirty-badge")),
            rx.spacer(),
            rx.text(EditorState.message, id="editor-message", size="2"),
            rx.button("Save", on_click=EditorState.save, id="save-button"),
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
                    on_drop_task=EditorState.drop_task,
                    on_connect_tasks=EditorState.connect_tasks,
                    on_delete_tasks=EditorState.delete_tasks,
                    on_delete_edge=EditorState.delete_edge,
                    on_move_task=EditorState.move_task,
                ),
                flex="1",
                height="75vh",
                border="1px solid var(--gray-5)",
                border_radius="8px",
                id="canvas",
            ),
            rx.vstack(
                yaml_editor(
                    value=EditorState.text,
                    problems=EditorState.problems,
                    on_change=EditorState.yaml_changed.debounce(350),
                    height="70vh",
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
    )
