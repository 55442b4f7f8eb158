"""Run history for the dashboard: ``engine.services.history``'s aggregations (computed by the database) turned
into plotly figures (``studio.charts``), the KPI and table texts, and the links a click on a chart opens.

Every figure counts only the namespaces the person may read: the engine service filters each aggregation in
SQL, so a chart, a KPI or a table row never reveals work in a namespace they cannot see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go

from engine.identity.policy import Principal
from engine.services import history as service
from engine.services.connections import database
from studio import charts

WINDOWS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom dates"}


@dataclass(frozen=True)
class Window(service.Period):
    """A window filter's period (``since`` inclusive, ``until`` exclusive), with the days its charts show."""

    @property
    def days(self) -> list[str]:
        """The UTC days the window touches, for the per-day charts' x axis."""
        last = min(self.until, self.now) - dt.timedelta(microseconds=1)
        return charts.days_between(self.since.date(), max(last, self.since).date())


def window(kind: str, start: str = "", end: str = "", now: dt.datetime | None = None) -> Window:
    """The time range of a window filter: ``24h`` ends now; ``7d``/``30d`` are whole UTC days ending today;
    ``custom`` goes from the ``start`` day to the ``end`` day inclusive (YYYY-MM-DD, either may be empty)."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "24h":
        return Window(now - dt.timedelta(hours=24), now, now)
    if kind == "custom":
        first = _day(start) or (today - dt.timedelta(days=6))
        last = _day(end) or today
        first, last = min(first, last), max(first, last)
        return Window(first, last + dt.timedelta(days=1), now)
    days = 30 if kind == "30d" else 7
    return Window(today - dt.timedelta(days=days - 1), now, now)


def _day(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


# --- thin adapters over engine.services.history ----------------------------------------------------


def executions_per_day(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> dict[str, Any]:
    return service.executions_per_day(database(), principal, w, namespace, flow_id)


def duration_points(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> dict[str, Any]:
    return service.duration_points(database(), principal, w, namespace, flow_id)


def kpis(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> dict[str, Any]:
    return service.kpis(database(), principal, w, namespace, flow_id)


def task_durations(principal: Principal, w: Window, namespace: str, flow_id: str) -> list[dict[str, Any]]:
    return service.task_durations(database(), principal, w, namespace, flow_id)


def slowest_tasks(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> list[dict[str, Any]]:
    return service.slowest_tasks(database(), principal, w, namespace, flow_id)


def most_failing_tasks(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> list[dict[str, Any]]:
    return service.most_failing_tasks(database(), principal, w, namespace, flow_id)


def log_lines_per_day(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> list[dict[str, Any]]:
    return service.log_lines_per_day(database(), principal, w, namespace, flow_id)


def flow_ids(principal: Principal, namespace: str = "") -> list[str]:
    """The flows the dashboard's flow filter offers: those of the namespaces the person may read."""
    return service.flow_ids(database(), principal, namespace)


# --- the whole dashboard, read at one instant -----------------------------------------------------


@dataclass
class Dashboard:
    kpis: dict[str, Any]  # ``stats.kpis``, typed: the page words them
    per_day: go.Figure
    durations: go.Figure
    tasks: go.Figure
    logs: go.Figure
    per_day_states: list[str]  # the state of each bar trace, to map a click back
    execution_ids: list[str]  # the execution of each point of the durations chart
    slowest: list[dict[str, Any]] = field(default_factory=list)  # ``stats`` task rows: counts and seconds
    failing: list[dict[str, Any]] = field(default_factory=list)


def dashboard(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> Dashboard:
    """Every figure of the dashboard, of the namespaces ``principal`` may read (a namespace they may not read
    shows as empty, like one without runs)."""
    numbers = service.dashboard(database(), principal, w, namespace, flow_id)
    days = w.days
    return Dashboard(
        kpis=kpi_numbers(numbers.kpis),
        per_day=charts.per_day_figure(numbers.per_day, days),
        durations=charts.durations_figure(numbers.durations),
        tasks=charts.tasks_figure(numbers.tasks),
        logs=charts.logs_figure(numbers.logs, days),
        per_day_states=charts.per_day_states(numbers.per_day),
        execution_ids=[p["id"] for p in numbers.durations["points"]],
        slowest=list(numbers.slowest),
        failing=list(numbers.failing),
    )


def kpi_numbers(numbers: dict[str, Any]) -> dict[str, Any]:
    """``stats.kpis`` with its next fire as a UTC moment (the engine gives it as ISO text, naive meaning UTC)."""
    text = numbers["next_fire_at"]
    if not text:
        return {**numbers, "next_fire_at": None}
    moment = dt.datetime.fromisoformat(text)
    return {**numbers, "next_fire_at": moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment}


def executions_url(namespace: str = "", flow_id: str = "", state: str = "", first: str = "", last: str = "") -> str:
    """The executions list filtered like a clicked bar: days are inclusive UTC days; empty filters are left out."""
    params = {"namespace": namespace, "flow": flow_id, "state": state, "from": first, "to": last}
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/executions?{query}" if query else "/executions"
