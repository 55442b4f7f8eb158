"""Dashboard: KPIs and run-history charts of a namespace or flow over a time window.

``/dashboard?namespace=<ns>&flow=<flow>`` preselects the filters (a flow's "Run history" link); ``window``
(24h, 7d, 30d, custom) with ``from``/``to`` (YYYY-MM-DD) picks the time range. Every number is computed by
the database (``studio.services.history``), over the namespaces the signed-in person may read only; the state
keeps only the figures on screen. A click on a bar or point opens the matching executions.
"""

from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from engine.identity import authz
from studio import charts, display
from studio.services import access, history
from studio.session import SessionState

ALL = "all namespaces"
ALL_FLOWS = "all flows"


@dataclass
class Kpis:
    """The KPI cards' texts; "-" until the first read."""

    runs_today: str = "-"
    success: str = "-"
    success_detail: str = ""
    failures: str = "-"
    running: str = "-"
    next: str = "-"

    @classmethod
    def of(cls, numbers: dict[str, Any]) -> "Kpis":
        """From ``history.dashboard``'s ``kpis`` (``stats.kpis``, its next fire a moment)."""
        ratio = numbers["success_ratio"]
        return cls(
            runs_today=str(numbers["runs_today"]),
            success=display.NONE if ratio is None else f"{ratio * 100:.1f} %",
            success_detail=f"{numbers['succeeded']} of {numbers['ended']} ended",
            failures=str(numbers["failures"]),
            running=str(numbers["running_now"]),
            next=display.minute_utc(numbers["next_fire_at"], missing="none scheduled"),
        )


@dataclass
class TaskRanking:
    """A task in the slowest or most failing table."""

    namespace: str
    flow: str
    task: str
    runs: str
    failures: str
    avg: str
    max: str

    @classmethod
    def of(cls, task: dict[str, Any]) -> "TaskRanking":
        """From a ``stats`` task row of ``history.dashboard`` (counts, and durations in seconds)."""
        return cls(
            namespace=task["namespace"],
            flow=task["flow_id"],
            task=task["task_id"],
            runs=str(task["count"]),
            failures=str(task["failures"]),
            avg=display.average_seconds(task["avg_s"]),
            max=display.average_seconds(task["max_s"]),
        )


class DashboardState(SessionState):
    namespaces: list[str] = [ALL]
    namespace: str = ALL
    flows: list[str] = [ALL_FLOWS]
    flow: str = ALL_FLOWS
    window: str = "7d"
    start: str = ""  # custom window, YYYY-MM-DD, inclusive
    end: str = ""
    kpis: Kpis = Kpis()
    per_day: go.Figure = go.Figure()
    durations: go.Figure = go.Figure()
    tasks: go.Figure = go.Figure()
    logs: go.Figure = go.Figure()
    per_day_states: list[str] = []
    execution_ids: list[str] = []
    slowest: list[TaskRanking] = []
    failing: list[TaskRanking] = []
    first_day: str = ""
    last_day: str = ""

    def _namespace(self) -> str:
        return "" if self.namespace == ALL else self.namespace

    def _flow(self) -> str:
        return "" if self.flow == ALL_FLOWS else self.flow

    @rx.event
    def load(self) -> None:
        params = self.router.page.params
        if "namespace" in params or "flow" in params:
            self.namespace = params.get("namespace") or ALL
            self.flow = params.get("flow") or ALL_FLOWS
        if params.get("window") in history.WINDOWS:
            self.window = params["window"]
        self.start, self.end = params.get("from", self.start), params.get("to", self.end)
        if params.get("from") or params.get("to"):
            self.window = "custom"
        principal = self.principal()
        known = access.reachable_namespaces(principal)
        if self.namespace != ALL and not authz.readable_namespace(principal, self.namespace):
            self.namespace, self.flow = ALL, ALL_FLOWS  # a link to a namespace they may not read: all of theirs
        self.namespaces = [ALL, *known, *([self.namespace] if self.namespace not in (ALL, *known) else [])]
        self.refresh()

    def refresh(self) -> None:
        principal = self.principal()
        namespace, flow = self._namespace(), self._flow()
        flow_ids = history.flow_ids(principal, namespace)
        self.flows = [ALL_FLOWS, *flow_ids, *([flow] if flow and flow not in flow_ids else [])]
        w = history.window(self.window, self.start, self.end)
        days = w.days
        self.first_day, self.last_day = days[0], days[-1]
        if self.window == "custom":
            self.start, self.end = self.first_day, self.last_day
        found = history.dashboard(principal, w, namespace, flow)
        self.kpis = Kpis.of(found.kpis)
        self.per_day, self.durations, self.tasks, self.logs = found.per_day, found.durations, found.tasks, found.logs
        self.per_day_states, self.execution_ids = found.per_day_states, found.execution_ids
        self.slowest = [TaskRanking.of(task) for task in found.slowest]
        self.failing = [TaskRanking.of(task) for task in found.failing]

    @rx.event
    def set_namespace(self, value: str) -> None:
        self.namespace, self.flow = value, ALL_FLOWS
        self.refresh()

    @rx.event
    def set_flow(self, value: str) -> None:
        self.flow = value
        self.refresh()

    @rx.event
    def set_window(self, value: str) -> None:
        self.window = value
        self.refresh()

    @rx.event
    def set_start(self, value: str) -> None:
        self.start, self.window = value, "custom"
        self.refresh()

    @rx.event
    def set_end(self, value: str) -> None:
        self.end, self.window = value, "custom"
        self.refresh()

    def _executions(self, state: str, day: str) -> Any:
        return rx.redirect(history.executions_url(self._namespace(), self._flow(), state, day, day))

    @rx.event
    def open_day(self, points: list[dict[str, Any]]) -> Any:
        """A bar (day and state) or the average line (day) of the per-day chart."""
        if not points:
            return None
        day, state = charts.per_day_click(self.per_day_states, points[0])
        return self._executions(state, day) if day else None

    @rx.event
    def open_execution(self, points: list[dict[str, Any]]) -> Any:
        """A point of the durations chart: that execution."""
        execution_id = charts.durations_click(self.execution_ids, points[0]) if points else ""
        return rx.redirect(f"/executions/{execution_id}") if execution_id else None

    @rx.event
    def open_log_day(self, points: list[dict[str, Any]]) -> Any:
        return self._executions("", str(points[0].get("x", ""))[:10]) if points else None
