"""One execution: header, then topology, Gantt, logs, outputs and actions, all following it live.

Every refresh asks again who is watching (``self.principal()``) and passes them to the services: when the
person loses the right to read the namespace (or signs out), the next tick empties the page and stops."""

import asyncio
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from engine.identity import authz
from engine.identity.policy import Action, Principal
from engine.workspace import uploads
from studio import display, live, services
from studio.components.file_drop import read_chosen
from studio.components.logs import ALL_LEVELS, LogLine, LogPanelState
from studio.components.output_files import FilePreview, OutputFilesState
from studio.gantt import gantt_figure
from studio.pages.executions.state import execution_row
from studio.services import executions as runs
from studio.session import SessionState

ALL_TASKS = "all tasks"
KEEP_LINES = 5000  # in the state: the whole log is the Download link's (streamed by the API)


@dataclass
class ResumeInput:
    """An input a paused task asks for when it is resumed."""

    id: str
    type: str


@dataclass
class SlaBreachRow:
    """An SLA of the flow the execution breached, as its banner says it."""

    sla_id: str = ""
    kind: str = ""  # maxDuration or assertion
    behavior: str = ""
    reason: str = ""
    at: str = ""

    @classmethod
    def of(cls, breach: dict[str, Any]) -> "SlaBreachRow":
        return cls(breach["sla_id"], breach["type"], breach["behavior"], breach["reason"], display.when(breach["at"]))


@dataclass
class ExecutionHeader:
    """The execution as the header and the actions show it, and what the person may do with it."""

    short: str = ""
    namespace: str = ""
    flow: str = ""
    revision: str = ""
    state: str = ""
    created: str = ""
    started: str = ""
    ended: str = ""
    duration: str = ""
    trigger: str = ""
    labels: str = ""
    error: str = ""
    inputs_json: str = ""
    outputs_json: str = ""
    running: bool = False
    paused: bool = False
    held: bool = False
    waiting: str = ""  # why task runs not started yet wait (no live worker in their group, the namespace's share)
    task_ids: list[str] = field(default_factory=list)
    resume_inputs: list[ResumeInput] = field(default_factory=list)
    sla_breaches: list[SlaBreachRow] = field(default_factory=list)
    may_kill: bool = False
    may_restart: bool = False
    may_resume: bool = False
    may_share: bool = False

    @classmethod
    def of(cls, info: dict[str, Any]) -> "ExecutionHeader":
        """From ``runs.detail_with_runs``'s first value (typed: its moments, durations and mappings become text)."""
        texts = {
            **info,
            **execution_row(info),
            "started": display.when(info["started"]),
            "ended": display.when(info["ended"]),
            "inputs_json": display.json_block(info["inputs"]),
            "outputs_json": display.json_block(info["outputs"]),
        }
        typed = ("running", "resume_inputs", "sla_breaches")
        plain = {name: texts[name] for name in cls.__dataclass_fields__ if name not in typed}
        return cls(
            **plain,
            running=bool(info["running"]),
            resume_inputs=[ResumeInput(id=i["id"], type=i["type"]) for i in info["resume_inputs"]],
            sla_breaches=[SlaBreachRow.of(breach) for breach in info.get("sla_breaches", [])],
        )


@dataclass
class MetricRow:
    """A counter or timer the task's script reported (engine.sdk), worded by ``display.metric``."""

    name: str = ""
    tags: str = ""
    kind: str = ""
    value: str = ""


@dataclass
class TaskOutput:
    task_id: str
    json_text: str
    metrics: list[MetricRow] = field(default_factory=list)


class ExecutionState(OutputFilesState, LogPanelState, SessionState):
    execution_id: str = ""
    info: ExecutionHeader = ExecutionHeader()
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    gantt: go.Figure = go.Figure()
    outputs: list[TaskOutput] = []
    log_task: str = ALL_TASKS
    replay_task: str = ""
    resume_values: dict[str, str] = {}
    resume_files: dict[str, str] = {}  # FILE input -> the name of the file chosen for it (its value: the stored path)
    message: str = ""
    missing: str = ""
    _following: bool = False
    _follow_until: float = 0.0  # after an action, follow a while even if the state has not moved yet

    @rx.var
    def running(self) -> bool:
        return self.info.running

    @rx.var
    def task_choices(self) -> list[str]:
        return [ALL_TASKS, *self.info.task_ids]

    @rx.var
    def visible_logs(self) -> list[LogLine]:
        return self._shown_lines("" if self.log_task == ALL_TASKS else self.log_task)

    @rx.event
    def load(self):
        self.execution_id = self.router.page.params.get("execution_id", "")
        self.log_lines, self._log_position, self.message, self.missing = [], 0, "", ""
        self.preview = FilePreview()
        self.log_task, self.log_level, self.log_search = ALL_TASKS, ALL_LEVELS, ""
        try:
            self._refresh(self.principal())
        except LookupError:  # a missing execution, or one of a namespace the person may not read (NotVisible)
            self._forget()
            return None
        self.replay_task = (self.info.task_ids or [""])[0]
        return ExecutionState.follow if self.running else None

    def _forget(self) -> None:
        """Nothing of the execution stays on screen once it may not be seen."""
        self.info, self.nodes, self.edges, self.outputs, self.log_lines = ExecutionHeader(), [], [], [], []
        self.files, self.preview = [], FilePreview()
        self.gantt, self.resume_values, self.resume_files = go.Figure(), {}, {}
        self.missing = f"no execution {self.execution_id}"

    def _refresh(self, principal: Principal, lines: tuple = ()) -> None:
        # The header and the nodes as of one instant: the badge never disagrees with the nodes it sits above.
        info, latest, spans = runs.detail_with_runs(principal, self.execution_id)
        self.info = ExecutionHeader.of(info)
        nodes, self.edges = runs.graph(info["source"], latest)
        self.nodes = [display.canvas_node(node) for node in nodes]
        self.gantt = gantt_figure(spans, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        self.outputs = [
            TaskOutput(
                task_id=task_id,
                json_text=display.json_block(run["outputs"]) if run["outputs"] else "",
                metrics=[MetricRow(**display.metric(entry)) for entry in run.get("metrics") or []],
            )
            for task_id, run in latest.items()
            if run["outputs"] or run.get("metrics")
        ]
        self._read_files(principal, self.execution_id)
        self.resume_values = {i.id: self.resume_values.get(i.id, "") for i in self.info.resume_inputs}
        if lines:  # already read by the follower
            rows = [services.log_row(line) for line in lines]
        else:
            rows = runs.logs(principal, self.execution_id, after=self._log_position, limit=2000)
        self._add_lines([LogLine.of(row) for row in rows], KEEP_LINES)

    def _apply(self, principal: Principal, update: live.Update) -> None:
        """One change of the execution: its new lines straight from the follower; task runs, Gantt and outputs
        re-read only when a task may have moved; a quiet tick only asks again who may watch."""
        if update.tasks_changed or update.ended:
            self._refresh(principal, update.lines)
        elif update.lines:
            runs.require(principal, Action.READ, self.execution_id)
            self._add_lines([LogLine.of(services.log_row(line)) for line in update.lines], KEEP_LINES)
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
