"""Test one task: the selected task run alone (n8n's "execute step", Kestra's Playground), with the flow's inputs and
the other tasks' outputs taken from a previous execution of the flow and/or typed as JSON; its state, logs and
outputs show in the dialog, on its canvas node and in the log panel, as a run's do (the run followed is the test).

The test is an execution of the saved flow marked as a test (``engine/services/task_tests.py``): it stays out of the
flow's history and charts. Only someone who may run the flow sees the button; the service checks again."""

import json
from dataclasses import dataclass
from typing import Any

import reflex as rx

from engine.core.errors import InvalidInput, NotFound
from engine.identity import authz
from studio import display
from studio.components.layout import labelled
from studio.components.output_files import FilePreview
from studio.pages.editor.run import RunState
from studio.pages.editor.state import EditorState
from studio.services import runs as run_services


@dataclass
class TestSource:
    """A previous execution offered as the source of the other tasks' outputs."""

    id: str
    label: str


class TaskTestState(RunState):
    test_open: bool = False
    test_task: str = ""  # the task tested (the selection may move meanwhile)
    test_sources: list[TestSource] = []
    test_source: str = ""  # the execution whose outputs are taken; "" for none
    test_outputs: str = "{}"  # pinned outputs typed as JSON, by task id: they win over the source's
    test_inputs: str = ""  # the flow's inputs as JSON; empty: the source's (or the declared defaults)
    test_error: str = ""
    test_execution: str = ""

    @rx.event
    def open_test(self) -> None:
        self.test_task, self.test_error, self.test_execution = self.selected, "", ""
        rows = run_services.task_test_sources(self.principal(), self.namespace, self.flow_id)
        self.test_sources = [
            TestSource(r["id"], f"{display.when(r['created_at'], seconds=False)} · {r['state']} · {r['id'][:8]}")
            for r in rows
        ]
        if self.test_source not in {s.id for s in self.test_sources}:
            self.test_source = self.test_sources[0].id if self.test_sources else ""
        self.test_open = True

    @rx.event
    def close_test(self) -> None:
        self.test_open = False

    @rx.event
    def set_test_source(self, value: str) -> None:
        self.test_source = value

    @rx.event
    def set_test_outputs(self, value: str) -> None:
        self.test_outputs = value

    @rx.event
    def set_test_inputs(self, value: str) -> None:
        self.test_inputs = value

    @rx.event
    async def start_test(self):
        from engine.flows.inputs import InputsInvalid

        try:
            outputs = _json_object(self.test_outputs, "Pinned outputs")
            inputs = _json_object(self.test_inputs, "Inputs")
        except ValueError as exc:
            self.test_error = str(exc)
            return None
        if self.dirty and self.can_edit:  # the saved flow is what runs: save the edits first, as Run does
            self.save()
            if self.dirty:
                self.test_error = f"{self.message}: fix the flow before testing a task"
                return None
        principal = self.principal()
        try:
            execution_id = run_services.start_task_test(
                principal,
                self.namespace,
                self.flow_id,
                self.test_task,
                inputs=inputs,
                outputs=outputs,
                from_execution=self.test_source,
            )
        except InputsInvalid as exc:
            self.test_error = "Inputs: " + "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
            return None
        except (InvalidInput, NotFound, authz.Forbidden) as exc:
            self.test_error = str(exc).strip("'\"")
            return None
        self.test_error, self.test_execution = "", execution_id
        run = await self.get_state(RunState)  # the run followed becomes the test: nodes, logs and outputs follow it
        run.execution_id, run.log_lines, run._log_position = execution_id, [], 0
        run.files, run.preview = [], FilePreview()
        run._poll_run(principal)
        return RunState.follow_run


def _json_object(text: str, what: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} are not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(value, dict):
        raise ValueError(f'{what} must be a JSON object, e.g. {{"fetch": {{"body": "..."}}}}')
    if "\\u0000" in json.dumps(value):  # no database stores a NUL character
        raise ValueError(f"{what} hold a NUL character (\\u0000): remove it")
    return value


def _result() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Result", weight="bold", size="2"),
            rx.badge(RunState.execution_state, id="test-state"),
            rx.link("open the execution", href="/executions/" + TaskTestState.test_execution, size="1"),
            align="center",
        ),
        rx.cond(
            RunState.selected_outputs != "",
            rx.code_block(RunState.selected_outputs, language="json", id="test-task-outputs", width="100%"),
        ),
        rx.box(
            rx.foreach(RunState.visible_logs, lambda line: rx.text(line.text, size="1", class_name="test-log-line")),
            id="test-logs",
            max_height="20vh",
            overflow_y="auto",
            width="100%",
            font_family="monospace",
        ),
        width="100%",
        padding="0.5em",
        border="1px solid var(--gray-5)",
        border_radius="6px",
    )


def _dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Test task " + TaskTestState.test_task),
            rx.dialog.description(
                "Runs this task alone, on the saved flow; the other tasks do not run. What it reads of them "
                "(outputs.<task>) comes from a previous execution and from the JSON below, which wins.",
                size="2",
            ),
            rx.vstack(
                labelled(
                    "Outputs from execution",
                    "test-source",
                    rx.el.select(
                        rx.el.option("none", value=""),
                        rx.foreach(TaskTestState.test_sources, lambda s: rx.el.option(s.label, value=s.id)),
                        value=TaskTestState.test_source,
                        on_change=TaskTestState.set_test_source,
                        id="test-source",
                        style={"width": "100%", "padding": "4px", "background": "var(--color-panel-solid)"},
                    ),
                ),
                labelled(
                    "Pinned outputs (JSON, by task id)",
                    "test-outputs",
                    rx.text_area(
                        value=TaskTestState.test_outputs,
                        on_change=TaskTestState.set_test_outputs,
                        id="test-outputs",
                        font_family="monospace",
                        width="100%",
                        rows="5",
                    ),
                ),
                labelled(
                    "Inputs (JSON; empty: those of the execution above, or the defaults)",
                    "test-inputs",
                    rx.text_area(
                        value=TaskTestState.test_inputs,
                        on_change=TaskTestState.set_test_inputs,
                        id="test-inputs",
                        font_family="monospace",
                        width="100%",
                        rows="2",
                    ),
                ),
                rx.cond(
                    TaskTestState.test_error != "",
                    rx.text(TaskTestState.test_error, color_scheme="red", size="2", id="test-error"),
                ),
                rx.cond(TaskTestState.test_execution != "", _result()),
                rx.hstack(
                    rx.button("Close", on_click=TaskTestState.close_test, variant="soft", id="close-test"),
                    rx.button("Run test", on_click=TaskTestState.start_test, id="start-test", color_scheme="green"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
            max_width="640px",
        ),
        open=TaskTestState.test_open,
        on_open_change=lambda _: TaskTestState.close_test(),
    )


def task_test() -> rx.Component:
    """The "Test task" button (for the selected task, to those who may run the flow) and its dialog."""
    return rx.fragment(
        rx.cond(
            EditorState.can_run & (EditorState.selected != ""),
            rx.button("Test task", on_click=TaskTestState.open_test, variant="soft", id="test-task-button"),
        ),
        _dialog(),
    )
