"""Run history for the dashboard: ``engine.store.stats`` aggregations (computed by the database) over the
namespaces the caller may read.

``authz.readable`` goes into each aggregation's SQL, so a chart, a KPI or a table row never reveals work in a
namespace the caller cannot see: such a namespace counts as empty, like one without runs. Results are the
store's JSON-friendly dicts (ISO dates, seconds); turning them into figures and texts is the adapter's part.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from engine.identity import authz
from engine.identity.policy import Principal
from engine.store import flows as flow_store
from engine.store import stats
from engine.store.database import session_scope
from engine.store.tables import Execution, FlowRecord, LogLine, TaskRun, TriggerState

DURATION_POINTS = 2000  # the newest ended executions a durations chart draws
TABLE_ROWS = 10  # the rows of the slowest and most failing tasks tables


@dataclass(frozen=True)
class Period:
    """A half-open time range, ``since <= t < until``, in UTC; ``now`` is when it was asked (KPIs of today)."""

    since: dt.datetime
    until: dt.datetime
    now: dt.datetime


@dataclass(frozen=True)
class DashboardNumbers:
    """Every aggregation of the dashboard, read in one session (one instant)."""

    per_day: dict[str, Any]
    durations: dict[str, Any]
    kpis: dict[str, Any]
    tasks: list[dict[str, Any]] = field(default_factory=list)  # only when one flow is chosen
    slowest: list[dict[str, Any]] = field(default_factory=list)
    failing: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)


Scope = dict[str, str | None]  # the namespace (and below) and the flow an aggregation is limited to
Rows = list[dict[str, Any]]


def _scope(namespace: str, flow_id: str) -> Scope:
    return {"namespace": namespace or None, "flow_id": flow_id or None}


def _per_day(session: Session, principal: Principal, period: Period, scope: Scope) -> dict[str, Any]:
    where = authz.readable(principal, Execution.namespace)
    return stats.executions_per_day(session, period.since, period.until, where=where, **scope).as_dict()


def _durations(session: Session, principal: Principal, period: Period, scope: Scope) -> dict[str, Any]:
    where = authz.readable(principal, Execution.namespace)
    found = stats.duration_points(session, period.since, period.until, limit=DURATION_POINTS, where=where, **scope)
    return found.as_dict()


def _kpis(session: Session, principal: Principal, period: Period, scope: Scope) -> dict[str, Any]:
    return stats.kpis(
        session,
        period.since,
        period.until,
        period.now,
        where=authz.readable(principal, Execution.namespace),
        trigger_where=authz.readable(principal, TriggerState.namespace),
        **scope,
    ).as_dict()


def _tasks(session: Session, principal: Principal, period: Period, scope: Scope) -> Rows:
    where = authz.readable(principal, TaskRun.namespace)
    return stats.task_durations(
        session, period.since, period.until, flow_id=scope["flow_id"] or "", namespace=scope["namespace"], where=where
    )


def _slowest(session: Session, principal: Principal, period: Period, scope: Scope) -> Rows:
    where = authz.readable(principal, TaskRun.namespace)
    return stats.top_tasks(session, period.since, period.until, by="slowest", limit=TABLE_ROWS, where=where, **scope)


def _failing(session: Session, principal: Principal, period: Period, scope: Scope) -> Rows:
    where = authz.readable(principal, TaskRun.namespace)
    return stats.top_tasks(session, period.since, period.until, by="failing", limit=TABLE_ROWS, where=where, **scope)


def _logs(session: Session, principal: Principal, period: Period, scope: Scope) -> Rows:
    where = authz.readable(principal, LogLine.namespace)
    return stats.log_lines_per_day(session, period.since, period.until, where=where, **scope)


def executions_per_day(
    db: Engine, principal: Principal, period: Period, namespace: str = "", flow_id: str = ""
) -> dict[str, Any]:
    """Executions per day and state, and the average duration of the ended ones per day."""
    with session_scope(db) as session:
        return _per_day(session, principal, period, _scope(namespace, flow_id))


def duration_points(
    db: Engine, principal: Principal, period: Period, namespace: str = "", flow_id: str = ""
) -> dict[str, Any]:
    """The newest ended executions' durations (at most ``DURATION_POINTS``) with the percentiles of all."""
    with session_scope(db) as session:
        return _durations(session, principal, period, _scope(namespace, flow_id))


def kpis(db: Engine, principal: Principal, period: Period, namespace: str = "", flow_id: str = "") -> dict[str, Any]:
    """Runs today, success ratio, failures, running now and the next scheduled fire."""
    with session_scope(db) as session:
        return _kpis(session, principal, period, _scope(namespace, flow_id))


def task_durations(db: Engine, principal: Principal, period: Period, namespace: str, flow_id: str) -> Rows:
    """Each task of one flow: runs, failures, average and percentile durations."""
    with session_scope(db) as session:
        return _tasks(session, principal, period, _scope(namespace, flow_id))


def slowest_tasks(db: Engine, principal: Principal, period: Period, namespace: str = "", flow_id: str = "") -> Rows:
    with session_scope(db) as session:
        return _slowest(session, principal, period, _scope(namespace, flow_id))


def most_failing_tasks(
    db: Engine, principal: Principal, period: Period, namespace: str = "", flow_id: str = ""
) -> Rows:
    with session_scope(db) as session:
        return _failing(session, principal, period, _scope(namespace, flow_id))


def log_lines_per_day(db: Engine, principal: Principal, period: Period, namespace: str = "", flow_id: str = "") -> Rows:
    with session_scope(db) as session:
        return _logs(session, principal, period, _scope(namespace, flow_id))


def flow_ids(db: Engine, principal: Principal, namespace: str = "") -> list[str]:
    """The ids of the flows of the namespaces ``principal`` may read (of ``namespace`` and below when given)."""
    where = authz.readable(principal, FlowRecord.namespace)
    with session_scope(db) as session:
        return sorted({r.flow_id for r in flow_store.list_flows(session, namespace or None, where=where)})


def dashboard(
    db: Engine, principal: Principal, period: Period, namespace: str = "", flow_id: str = ""
) -> DashboardNumbers:
    """Every aggregation of the dashboard in one session; the per-task durations only when ``flow_id`` is given."""
    scope = _scope(namespace, flow_id)
    with session_scope(db) as session:
        return DashboardNumbers(
            per_day=_per_day(session, principal, period, scope),
            durations=_durations(session, principal, period, scope),
            kpis=_kpis(session, principal, period, scope),
            tasks=_tasks(session, principal, period, scope) if flow_id else [],
            slowest=_slowest(session, principal, period, scope),
            failing=_failing(session, principal, period, scope),
            logs=_logs(session, principal, period, scope),
        )
