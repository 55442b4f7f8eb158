"""One execution: header, then topology, Gantt, logs, outputs and actions, all following it live.

Every refresh asks again who is watching (``self.principal()``) and passes them to the services: when the
person loses the right to read the namespace (or signs out), the next tick empties the page and stops."""

import asyncio
import datetime as dt
import json
import time
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.workspace import uploads
from studio import live, services
from studio.components.canvas import flow_canvas
from studio.components.file_drop import file_drop, read_chosen
from studio.components.layout import page, sidebar
from studio.components.logs import log_filters, log_line
from studio.components.share_dialog import share_button_for, share_dialog
from studio.gantt import gantt_figure
from studio.services import executions as runs
from studio.session import ALL_NAMESPACES, SessionState

ALL_TASKS = "all tasks"


class ExecutionState(SessionState):
    execution_id: str = ""
    info: dict[str, Any] = {}
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    gantt: go.Figure = go.Figure()
    outputs: list[dict[str, str]] = []
    log_lines: list[dict[str, Any]] = []
    log_task: str = ALL_TASKS
    log_level: str = "ALL"
    log_search: str = ""
    replay_task: str = ""
    resume_values: dict[str, str] = {}
    resume_files: dict[str, str] = {}  # FILE input -> the name of the file chosen for it (its value: the stored path)
    message: str = ""
    missing: str = ""
    _log_position: int = 0
    _following: bool = False
    _follow_until: float = 0.0  # after an action, follow a while even if the state has not moved yet

    @rx.var
    def running(self) -> bool:
        return bool(self.info.get("running"))

    @rx.var
    def task_choices(self) -> list[str]:
        return [ALL_TASKS, *self.info.get("task_ids", [])]

    @rx.var
    def visible_logs(self) -> list[dict[str, Any]]:
        task_id = "" if self.log_task == ALL_TASKS else self.log_task
        return services.visible_logs(self.log_lines, task_id=task_id, level=self.log_level, search=self.log_search)

    @rx.event
    def load(self):
        self.execution_id = self.router.page.params.get("execution_id", "")
        self.log_lines, self._log_position, self.message, self.missing = [], 0, "", ""
        self.log_task, self.log_level, self.log_search = ALL_TASKS, "ALL", ""
        try:
            self._refresh(self.principal())
        except LookupError:  # a missing execution, or one of a namespace the person may not read (NotVisible)
            self._forget()
            return None
        self.replay_task = (self.info.get("task_ids") or [""])[0]
        return ExecutionState.follow if self.running else None

    def _forget(self) -> None:
        """Nothing of the execution stays on screen once it may not be seen."""
        self.info, self.nodes, self.edges, self.outputs, self.log_lines = {}, [], [], [], []
        self.gantt, self.resume_values, self.resume_files = go.Figure(), {}, {}
        self.missing = f"no execution {self.execution_id}"

    def _refresh(self, principal: Principal, lines: tuple = ()) -> None:
        # The header and the nodes as of one instant: the badge never disagrees with the nodes it sits above.
        self.info, latest, spans = runs.detail_with_runs(principal, self.execution_id)
        self.nodes, self.edges = runs.graph(self.info["source"], latest)
        self.gantt = gantt_figure(spans, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        self.outputs = [
            {"task_id": task_id, "json": json.dumps(run["outputs"], indent=2, default=str)}
            for task_id, run in latest.items()
            if run["outputs"]
        ]
        self.resume_values = {i["id"]: self.resume_values.get(i["id"], "") for i in self.info["resume_inputs"]}
        if lines:  # already read by the follower
            self._add_lines([services.log_row(line) for line in lines])
        else:
            self._add_lines(runs.logs(principal, self.execution_id, after=self._log_position, limit=2000))

    def _add_lines(self, rows: list[dict[str, Any]]) -> None:
        fresh = [row for row in rows if row["id"] > self._log_position]
        if fresh:
            self._log_position = fresh[-1]["id"]
            self.log_lines = (self.log_lines + fresh)[-5000:]

    def _apply(self, principal: Principal, update: live.Update) -> None:
        """One change of the execution: its new lines straight from the follower; task runs, Gantt and outputs
        re-read only when a task may have moved; a quiet tick only asks again who may watch."""
        if update.tasks_changed or update.ended:
            self._refresh(principal, update.lines)
        elif update.lines:
            runs.require(principal, Action.READ, self.execution_id)
            self._add_lines([services.log_row(line) for line in update.lines])
        else:
            runs.require(principal, Action.READ, self.execution_id)

    @rx.event(background=True)
    async def follow(self):
        """While the execution runs: states, Gantt, outputs and new log lines, at each change."""
        async with self:
            if self._following:
                return
            self._following = True
        try:
            while True:
                async with self:
                    execution_id, after = self.execution_id, self._log_position
                async with live.watch(execution_id, after) as updates:
                    async for update in updates:
                        async with self:
                            shown = self.router.page.path.startswith("/executions/")
                            if not shown or self.execution_id != execution_id:
                                return
                            try:
                                self._apply(self.principal(), update)  # who watches is asked again at every change
                            except (LookupError, authz.Unauthenticated):
                                self._forget()
                                return
                async with self:  # it ended; after an action, watch a while longer for the state to move
                    if time.monotonic() > self._follow_until or self.execution_id != execution_id:
                        return
                await asyncio.sleep(0.5)
        finally:
            async with self:
                self._following = False

    def _act(self, action, done: str):
        try:
            action()
        except (ValueError, LookupError) as exc:
            self.message = str(exc)
            return None
        self.message = done
        self._follow_until = time.monotonic() + 10
        self._refresh(self.principal())
        return ExecutionState.follow

    @rx.event
    def kill(self):
        principal = self.principal()
        return self._act(lambda: runs.kill(principal, self.execution_id), "kill requested")

    @rx.event
    def restart(self):
        principal = self.principal()
        return self._act(lambda: runs.restart(principal, self.execution_id), "restarted from the failed tasks")

    @rx.event
    def resume(self):
        values = {k: v for k, v in self.resume_values.items() if v != ""}
        principal = self.principal()
        return self._act(lambda: runs.resume(principal, self.execution_id, values), "resumed")

    @rx.event
    def replay(self):
        try:
            new_id = runs.replay(self.principal(), self.execution_id, self.replay_task)
        except (ValueError, LookupError) as exc:
            self.message = str(exc)
            return None
        return rx.redirect(f"/executions/{new_id}")

    @rx.event
    def set_replay_task(self, value: str) -> None:
        self.replay_task = value

    @rx.event
    def set_resume_value(self, input_id: str, value: str) -> None:
        self.resume_values = {**self.resume_values, input_id: value}

    @rx.event
    async def upload_resume_file(self, files: list[rx.UploadFile], input_id: str) -> None:
        """A file chosen for a paused task's FILE input: stored for the flow as the API stores an upload."""
        chosen = await read_chosen(files)
        if chosen is None:
            return
        name, data = chosen
        try:
            path = runs.store_resume_file(self.principal(), self.execution_id, input_id, name, data)
        except (uploads.UploadRefused, authz.Forbidden, authz.NotVisible) as exc:
            self.message = str(exc)
            return
        self.resume_values = {**self.resume_values, input_id: path}
        self.resume_files = {**self.resume_files, input_id: uploads.stored_name(name, input_id)}

    @rx.event
    def select_task(self, payload: dict[str, Any]) -> None:
        """A click on a node shows that task's log lines."""
        task_id = payload.get("id", "")
        self.log_task = ALL_TASKS if not task_id or task_id == self.log_task else task_id

    @rx.event
    def set_log_task(self, value: str) -> None:
        self.log_task = value

    @rx.event
    def set_log_level(self, value: str) -> None:
        self.log_level = value

    @rx.event
    def set_log_search(self, value: str) -> None:
        self.log_search = value


def _fact(label: str, value, **props) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="2", **props), spacing="0")


def _header() -> rx.Component:
    info = ExecutionState.info
    flow_href = "/flows/" + info["namespace"].to(str) + "/" + info["flow"].to(str)
    return rx.vstack(
        rx.hstack(
            rx.heading("Execution " + info["short"].to(str), size="5"),
            rx.badge(info["state"].to(str), id="execution-state", size="2"),
            rx.spacer(),
            rx.text(ExecutionState.message, size="2", id="execution-message"),
            share_button_for(
                info["may_share"].to(bool), "execution", info["namespace"].to(str), ExecutionState.execution_id
            ),
            width="100%",
            align="center",
        ),
        rx.hstack(
            rx.vstack(
                rx.text("Flow", size="1", color_scheme="gray"),
                rx.hstack(
                    rx.link(info["namespace"].to(str) + "/" + info["flow"].to(str), href=flow_href),
                    rx.link(
                        "revision " + info["revision"].to(str),
                        href=flow_href + "?revision=" + info["revision"].to(str),
                        id="revision-link",
                        size="2",
                    ),
                ),
                spacing="0",
            ),
            _fact("Created", info["created"].to(str)),
            _fact("Started", info["started"].to(str)),
            _fact("Ended", info["ended"].to(str)),
            _fact("Duration", info["duration"].to(str), id="execution-duration"),
            _fact("Trigger", info["trigger"].to(str)),
            _fact("Labels", info["labels"].to(str)),
            spacing="5",
            wrap="wrap",
        ),
        rx.cond(
            info["error"].to(str) != "",
            rx.callout(info["error"].to(str), color_scheme="red", id="execution-error", width="100%"),
        ),
        rx.grid(
            rx.vstack(
                rx.text("Inputs", size="1", weight="bold"),
                rx.code_block(info["inputs_json"].to(str), language="json", width="100%"),
                width="100%",
            ),
            rx.vstack(
                rx.text("Outputs", size="1", weight="bold"),
                rx.code_block(info["outputs_json"].to(str), language="json", width="100%"),
                width="100%",
            ),
            columns="2",
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _logs() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.select(
                ExecutionState.task_choices,
                value=ExecutionState.log_task,
                on_change=ExecutionState.set_log_task,
                size="1",
                name="log-task",
            ),
            log_filters(
                ExecutionState.log_level,
                ExecutionState.set_log_level,
                ExecutionState.log_search,
                ExecutionState.set_log_search,
                ExecutionState.visible_logs,
            ),
            rx.spacer(),
            # A plain link to the API's streamed download (the session cookie goes with it): the log never passes
            # through this page's state, whatever its size. A share link's page offers no download.
            rx.button(
                rx.el.a(
                    "Download",
                    href="/api/v1/logs/" + ExecutionState.execution_id + "/download",
                    download=ExecutionState.execution_id + ".log",
                    reload_document=True,  # rx.el.a is React Router's Link: let the browser fetch it, not the router
                    id="download-logs",
                ),
                as_child=True,
                size="1",
                variant="soft",
            ),
            width="100%",
            align="center",
        ),
        rx.box(
            rx.foreach(ExecutionState.visible_logs, log_line),
            max_height="55vh",
            overflow_y="auto",
            width="100%",
            id="log-panel",
        ),
        width="100%",
    )


def _output(item: dict) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(item["task_id"], weight="bold", size="2"),
            rx.button("Copy", size="1", variant="soft", on_click=rx.set_clipboard(item["json"])),
        ),
        rx.code_block(item["json"], language="json", width="100%"),
        width="100%",
        class_name="task-output",
    )


def _actions() -> rx.Component:
    # Shown to those whose role allows them; the services check again whatever the page shows.
    may = ExecutionState.info
    return rx.vstack(
        rx.cond(
            ~may["may_kill"].to(bool) & ~may["may_restart"].to(bool),
            rx.callout("Your role in this namespace lets you follow this execution, not act on it.", id="read-only"),
        ),
        rx.hstack(
            rx.cond(
                may["may_kill"].to(bool),
                rx.button(
                    "Kill",
                    on_click=ExecutionState.kill,
                    color_scheme="red",
                    id="kill-button",
                    disabled=~ExecutionState.running,
                ),
            ),
            rx.cond(
                may["may_restart"].to(bool),
                rx.button(
                    "Restart from failed tasks",
                    on_click=ExecutionState.restart,
                    id="restart-button",
                    disabled=ExecutionState.running,
                ),
            ),
        ),
        rx.cond(may["may_restart"].to(bool), _replay()),
        rx.cond(
            (ExecutionState.info["paused"].to(bool) | ExecutionState.info["held"].to(bool))
            & may["may_resume"].to(bool),
            _resume(),
        ),
        spacing="4",
    )


def _replay() -> rx.Component:
    return rx.hstack(
        rx.text("Replay from", size="2"),
        rx.select(
            ExecutionState.info["task_ids"].to(list[str]),
            value=ExecutionState.replay_task,
            on_change=ExecutionState.set_replay_task,
            name="replay-task",
        ),
        rx.button("Replay", on_click=ExecutionState.replay, variant="soft", id="replay-button"),
        align="center",
    )


@rx.memo
def resume_file_picker(input_id: rx.Var[str]) -> rx.Component:
    upload_id = "resume-file-" + input_id
    return file_drop(
        upload_id,
        rx.cond(ExecutionState.resume_files.contains(input_id), ExecutionState.resume_files[input_id], ""),
        ExecutionState.upload_resume_file(rx.upload_files(upload_id=upload_id), input_id),
    )


def _resume() -> rx.Component:
    return rx.vstack(
        rx.foreach(
            ExecutionState.info["resume_inputs"].to(list[dict[str, str]]),
            lambda item: rx.hstack(
                rx.text(item["id"] + " (" + item["type"] + ")", size="2"),
                rx.cond(
                    item["type"] == "FILE",
                    resume_file_picker(input_id=item["id"]),
                    rx.input(
                        value=ExecutionState.resume_values[item["id"]],
                        on_change=lambda v: ExecutionState.set_resume_value(item["id"], v),
                        name=item["id"],
                    ),
                ),
                align="center",
            ),
        ),
        rx.button("Resume", on_click=ExecutionState.resume, color_scheme="green", id="resume-button"),
    )


def execution_page() -> rx.Component:
    return page(
        sidebar(SessionState.reachable, ALL_NAMESPACES, SessionState.open_namespace),
        rx.cond(
            ExecutionState.missing != "",
            rx.callout(ExecutionState.missing, color_scheme="red", id="execution-missing"),
            rx.vstack(
                _header(),
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("Topology", value="topology", id="tab-topology"),
                        rx.tabs.trigger("Gantt", value="gantt", id="tab-gantt"),
                        rx.tabs.trigger("Logs", value="logs", id="tab-logs"),
                        rx.tabs.trigger("Outputs", value="outputs", id="tab-outputs"),
                        rx.tabs.trigger("Actions", value="actions", id="tab-actions"),
                    ),
                    rx.tabs.content(
                        rx.box(
                            flow_canvas(
                                nodes=ExecutionState.nodes,
                                edges=ExecutionState.edges,
                                positions={},
                                read_only=True,
                                flow_key=ExecutionState.info["namespace"].to(str)
                                + "/"
                                + ExecutionState.info["flow"].to(str),
                                on_select_task=ExecutionState.select_task,
                            ),
                            height="60vh",
                            border="1px solid var(--gray-5)",
                            border_radius="8px",
                            id="canvas",
                        ),
                        value="topology",
                    ),
                    rx.tabs.content(rx.plotly.basic(data=ExecutionState.gantt, id="gantt"), value="gantt"),
                    rx.tabs.content(_logs(), value="logs"),
                    rx.tabs.content(
                        rx.vstack(rx.foreach(ExecutionState.outputs, _output), width="100%"), value="outputs"
                    ),
                    rx.tabs.content(_actions(), value="actions"),
                    default_value="topology",
                    width="100%",
                ),
                share_dialog(),
                width="100%",
            ),
        ),
    )
