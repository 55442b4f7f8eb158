"""Run history for the dashboard: ``engine.store.stats`` aggregations (computed by the database) turned into
JSON-friendly data, plotly figures (``studio.charts``) and the links a click on a chart opens.

Every figure counts only the namespaces the person may read: ``authz.readable`` goes into each aggregation's
SQL, so a chart, a KPI or a table row never reveals work in a namespace they cannot see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go
from sqlmodel import Session

from engine.identity import authz
from engine.identity.policy import Principal
from engine.store import flows as flow_store
from engine.store import stats
from engine.store.database import session_scope
from engine.store.tables import Execution, FlowRecord, LogLine, TaskRun, TriggerState
from studio import charts
from studio.services import database

WINDOWS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom dates"}
DURATION_POINTS = 2000  # the newest ended executions drawn in the durations chart
TABLE_ROWS = 10


@dataclass(frozen=True)
class Window:
    since: dt.datetime  # inclusive
    until: dt.datetime  # exclusive
    now: dt.datetime

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


def _scope(namespace: str, flow_id: str) -> dict[str, str | None]:
    return {"namespace": namespace or None, "flow_id": flow_id or None}


# --- thin wrappers of engine.store.stats ----------------------------------------------------------


def _session() -> Any:
    return session_scope(database())


def executions_per_day(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> dict[str, Any]:
    where = authz.readable(principal, Execution.namespace)
    with _session() as session:
        return stats.executions_per_day(session, w.since, w.until, where=where, **_scope(namespace, flow_id)).as_dict()


def duration_points(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> dict[str, Any]:
    with _session() as session:
        return _durations(session, principal, w, namespace, flow_id)


def _durations(session: Session, principal: Principal, w: Window, namespace: str, flow_id: str) -> dict[str, Any]:
    found = stats.duration_points(
        session,
        w.since,
        w.until,
        limit=DURATION_POINTS,
        where=authz.readable(principal, Execution.namespace),
        **_scope(namespace, flow_id),
    )
    return found.as_dict()


def _kpis(session: Session, principal: Principal, w: Window, namespace: str, flow_id: str) -> dict[str, Any]:
    return stats.kpis(
        session,
        w.since,
        w.until,
        w.now,
        where=authz.readable(principal, Execution.namespace),
        trigger_where=authz.readable(principal, TriggerState.namespace),
        **_scope(namespace, flow_id),
    ).as_dict()


def kpis(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> dict[str, Any]:
    with _session() as session:
        return _kpis(session, principal, w, namespace, flow_id)


def task_durations(principal: Principal, w: Window, namespace: str, flow_id: str) -> list[dict[str, Any]]:
    where = authz.readable(principal, TaskRun.namespace)
    with _session() as session:
        return stats.task_durations(
            session, w.since, w.until, flow_id=flow_id, namespace=namespace or None, where=where
        )


def slowest_tasks(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> list[dict[str, Any]]:
    where = authz.readable(principal, TaskRun.namespace)
    with _session() as session:
        return stats.slowest_tasks(
            session, w.since, w.until, limit=TABLE_ROWS, where=where, **_scope(namespace, flow_id)
        )


def most_failing_tasks(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> list[dict[str, Any]]:
    where = authz.readable(principal, TaskRun.namespace)
    with _session() as session:
        return stats.most_failing_tasks(
            session, w.since, w.until, limit=TABLE_ROWS, where=where, **_scope(namespace, flow_id)
        )


def log_lines_per_day(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> list[dict[str, Any]]:
    where = authz.readable(principal, LogLine.namespace)
    with _session() as session:
        return stats.log_lines_per_day(session, w.since, w.until, where=where, **_scope(namespace, flow_id))


def flow_ids(principal: Principal, namespace: str = "") -> list[str]:
    """The flows the dashboard's flow filter offers: those of the namespaces the person may read."""
    where = authz.readable(principal, FlowRecord.namespace)
    with _session() as session:
        return sorted({r.flow_id for r in flow_store.list_flows(session, namespace or None, where=where)})


# --- the whole dashboard in one session -----------------------------------------------------------


@dataclass
class Dashboard:
    kpis: dict[str, str]
    per_day: go.Figure
    durations: go.Figure
    tasks: go.Figure
    logs: go.Figure
    per_day_states: list[str]  # the state of each bar trace, to map a click back
    execution_ids: list[str]  # the execution of each point of the durations chart
    slowest: list[dict[str, str]] = field(default_factory=list)
    failing: list[dict[str, str]] = field(default_factory=list)


def dashboard(principal: Principal, w: Window, namespace: str = "", flow_id: str = "") -> Dashboard:
    """Every figure of the dashboard, of the namespaces ``principal`` may read (a namespace they may not read
    shows as empty, like one without runs)."""
    scope = _scope(namespace, flow_id)
    runs, task_runs = authz.readable(principal, Execution.namespace), authz.readable(principal, TaskRun.namespace)
    with _session() as session:
        per_day = stats.executions_per_day(session, w.since, w.until, where=runs, **scope).as_dict()
        durations = _durations(session, principal, w, namespace, flow_id)
        numbers = _kpis(session, principal, w, namespace, flow_id)
        tasks = []
        if flow_id:
            tasks = stats.task_durations(
                session, w.since, w.until, flow_id=flow_id, namespace=scope["namespace"], where=task_runs
            )
        slowest = stats.slowest_tasks(session, w.since, w.until, limit=TABLE_ROWS, where=task_runs, **scope)
        failing = stats.most_failing_tasks(session, w.since, w.until, limit=TABLE_ROWS, where=task_runs, **scope)
        logs = stats.log_lines_per_day(
            session, w.since, w.until, where=authz.readable(principal, LogLine.namespace), **scope
        )
    days = w.days
    return Dashboard(
        kpis=kpi_texts(numbers),
        per_day=charts.per_day_figure(per_day, days),
        durations=charts.durations_figure(durations),
        tasks=charts.tasks_figure(tasks),
        logs=charts.logs_figure(logs, days),
        per_day_states=charts.per_day_states(per_day),
        execution_ids=[p["id"] for p in durations["points"]],
        slowest=[task_row(t) for t in slowest],
        failing=[task_row(t) for t in failing],
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def task_row(task: dict[str, Any]) -> dict[str, str]:
    return {
        "namespace": task["namespace"],
        "flow": task["flow_id"],
        "task": task["task_id"],
        "runs": str(task["count"]),
        "failures": str(task["failures"]),
        "avg": _seconds(task["avg_s"]),
        "max": _seconds(task["max_s"]),
    }


def kpi_texts(numbers: dict[str, Any]) -> dict[str, str]:
    """The KPI cards' text from ``stats.kpis``."""
    ratio = numbers["success_ratio"]
    next_fire = numbers["next_fire_at"]
    if next_fire:
        moment = dt.datetime.fromisoformat(next_fire)
        moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
        next_fire = f"{moment:%Y-%m-%d %H:%M} UTC"
    return {
        "runs_today": str(numbers["runs_today"]),
        "success": "-" if ratio is None else f"{ratio * 100:.1f} %",
        "success_detail": f"{numbers['succeeded']} of {numbers['ended']} ended",
        "failures": str(numbers["failures"]),
        "running": str(numbers["running_now"]),
        "next": next_fire or "none scheduled",
    }


def executions_url(namespace: str = "", flow_id: str = "", state: str = "", first: str = "", last: str = "") -> str:
    """The executions list filtered like a clicked bar: days are inclusive UTC days; empty filters are left out."""
    params = {"namespace": namespace, "flow": flow_id, "state": state, "from": first, "to": last}
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/executions?{query}" if query else "/executions"
