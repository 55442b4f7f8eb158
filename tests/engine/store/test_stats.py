"""Run-history aggregations on a small known history, with exact answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy

from engine.identity import authz
from engine.identity.policy import Principal, Role
from engine.store import stats
from engine.store.database import session_scope
from engine.store.search import ExecutionFilter, search_executions
from engine.store.tables import Execution, FlowRecord, LogLine, TaskRun, TriggerState

UTC = dt.UTC
SINCE = dt.datetime(2026, 11, 17, tzinfo=UTC)
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=UTC)
PLUS2 = dt.timezone(dt.timedelta(hours=2))  # a non-UTC time must land in its UTC day


def at(day: int, hour: int, minute: int = 0, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=tz)


# id, flow, state, created, duration (s) or None; started/ended follow from created and duration
EXECUTIONS = [
    ("e0", "etl", "SUCCESS", at(16, 23, 59), 999),  # before the window
    ("e1", "etl", "SUCCESS", at(17, 10), 10),
    ("e2", "etl", "FAILED", at(17, 11), 20),
    ("e3", "etl", "SUCCESS", at(18, 8), 30),
    ("e4", "etl", "SUCCESS", at(18, 9), 40),
    ("e5", "etl", "WARNING", at(19, 1, 30, PLUS2), 50),  # 2026-11-18 23:30 UTC
    ("e6", "etl", "FAILED", at(19, 5), None),  # failed before it started
    ("e7", "other", "SUCCESS", at(19, 6), 60),
    ("e8", "etl", "RUNNING", at(20, 9), None),
    ("e9", "etl", "QUEUED", at(20, 11), None),
    ("e10", "etl", "PAUSED", at(10, 9), None),  # old, outside the window, but still not ended
]
# execution, task, state, duration (ms) or None
TASK_RUNS = [
    ("e0", "extract", "SUCCESS", 999_000),
    ("e1", "extract", "SUCCESS", 1000),
    ("e1", "load", "SUCCESS", 3000),
    ("e2", "extract", "SUCCESS", 2000),
    ("e2", "load", "FAILED", 5000),
    ("e3", "extract", "SUCCESS", 3000),
    ("e3", "load", "SUCCESS", 4000),
    ("e4", "extract", "SUCCESS", 4000),
    ("e4", "load", "RUNNING", None),
    ("e7", "x", "FAILED", 100_000),
]
# flow, level, timestamp
LOGS = [
    ("etl", "INFO", at(16, 12)),
    ("etl", "INFO", at(17, 10)),
    ("etl", "INFO", at(17, 10, 1)),
    ("etl", "ERROR", at(17, 11)),
    ("etl", "DEBUG", at(18, 1, 0, PLUS2)),  # 2026-11-17 23:00 UTC
    ("other", "INFO", at(19, 6)),
    ("etl", "WARN", at(20, 9)),
]


@pytest.fixture
def history(database):
    created = {}
    with session_scope(database) as session:
        for execution_id, flow_id, state, created_at, seconds in EXECUTIONS:
            created[execution_id] = (flow_id, created_at)
            ended = state not in ("RUNNING", "QUEUED", "PAUSED")
            session.add(
                Execution(
                    id=execution_id,
                    namespace="acme",
                    flow_id=flow_id,
                    flow_revision=1,
                    state=state,
                    created_at=created_at,
                    started_at=created_at if seconds is not None or state == "RUNNING" else None,
                    ended_at=created_at + dt.timedelta(seconds=seconds or 0) if ended else None,
                    duration_ms=None if seconds is None else seconds * 1000,
                )
            )
        session.flush()
        for number, (execution_id, task_id, state, ms) in enumerate(TASK_RUNS):
            flow_id, created_at = created[execution_id]
            session.add(
                TaskRun(
                    id=f"t{number}",
                    execution_id=execution_id,
                    namespace="acme",
                    flow_id=flow_id,
                    task_id=task_id,
                    state=state,
                    created_at=created_at,
                    duration_ms=ms,
                )
            )
        for flow_id, level, timestamp in LOGS:
            session.add(
                LogLine(
                    execution_id="e1", namespace="acme", flow_id=flow_id, level=level, message="m", timestamp=timestamp
                )
            )
        # A test of one task (the editor's "Test this task"): in the window, slow, failing, logging an error; no
        # figure above may count it, so every exact answer below also checks that it is left out.
        session.add(
            Execution(
                id="tested",
                namespace="acme",
                flow_id="etl",
                flow_revision=1,
                state="FAILED",
                test=True,
                created_at=at(19, 7),
                started_at=at(19, 7),
                ended_at=at(19, 8),
                duration_ms=60_000,
            )
        )
        session.flush()
        session.add(
            TaskRun(
                id="t-tested",
                execution_id="tested",
                namespace="acme",
                flow_id="etl",
                task_id="extract",
                state="FAILED",
                created_at=at(19, 7),
                duration_ms=900_000,
            )
        )
        session.add(
            LogLine(
                execution_id="tested", namespace="acme", flow_id="etl", level="ERROR", message="m", timestamp=at(19, 7)
            )
        )
        for flow_id, deleted in (("etl", False), ("gone", True)):
            session.add(FlowRecord(namespace="acme", flow_id=flow_id, revision=1, source="", deleted=deleted))
        for flow_id, trigger_id, enabled, next_fire_at in (
            ("etl", "hourly", True, at(20, 13)),
            ("etl", "off", False, at(20, 12, 15)),  # disabled trigger
            ("gone", "hourly", True, at(20, 12, 30)),  # trigger of a deleted flow
        ):
            session.add(
                TriggerState(
                    namespace="acme", flow_id=flow_id, trigger_id=trigger_id, enabled=enabled, next_fire_at=next_fire_at
                )
            )
    return database


def test_executions_per_day(history):
    with session_scope(history) as session:
        result = stats.executions_per_day(session, SINCE, NOW).as_dict()
        etl = stats.executions_per_day(session, SINCE, NOW, namespace="acme", flow_id="etl")
        nothing = stats.executions_per_day(session, SINCE, NOW, namespace="elsewhere")
    assert result["counts"] == [
        {"day": "2026-11-17", "state": "FAILED", "count": 1},
        {"day": "2026-11-17", "state": "SUCCESS", "count": 1},
        {"day": "2026-11-18", "state": "SUCCESS", "count": 2},
        {"day": "2026-11-18", "state": "WARNING", "count": 1},
        {"day": "2026-11-19", "state": "FAILED", "count": 1},
        {"day": "2026-11-19", "state": "SUCCESS", "count": 1},
        {"day": "2026-11-20", "state": "QUEUED", "count": 1},
        {"day": "2026-11-20", "state": "RUNNING", "count": 1},
    ]
    assert result["durations"] == [
        {"day": "2026-11-17", "ended": 2, "avg_duration_s": 15.0},
        {"day": "2026-11-18", "ended": 3, "avg_duration_s": 40.0},
        {"day": "2026-11-19", "ended": 1, "avg_duration_s": 60.0},
    ]
    assert {"day": "2026-11-19", "state": "SUCCESS", "count": 1} not in etl.counts
    assert [d["day"] for d in etl.durations] == ["2026-11-17", "2026-11-18"]
    assert nothing.counts == [] and nothing.durations == []


def test_duration_points_and_percentiles(history):
    with session_scope(history) as session:
        result = stats.duration_points(session, SINCE, NOW)
        capped = stats.duration_points(session, SINCE, NOW, limit=2)
        etl = stats.duration_points(session, SINCE, NOW, flow_id="etl")
        empty = stats.duration_points(session, SINCE, NOW, flow_id="nope")
    assert [p["id"] for p in result.points] == ["e7", "e5", "e4", "e3", "e2", "e1"]
    assert result.points[1] == {
        "id": "e5",
        "started_at": "2026-11-18T23:30:00+00:00",
        "ended_at": "2026-11-18T23:30:50+00:00",
        "duration_s": 50.0,
    }
    # durations 10..60 s: p50 between the 3rd and 4th, p95 at rank 4.75 (percentile_cont's interpolation)
    assert (result.count, result.p50_s, result.p95_s) == (6, 35.0, 57.5)
    assert [p["id"] for p in capped.points] == ["e7", "e5"] and capped.count == 6
    assert (etl.count, etl.p50_s, etl.p95_s) == (5, 30.0, 48.0)
    assert (empty.points, empty.count, empty.p50_s, empty.p95_s) == ([], 0, None, None)


def test_kpis(history):
    with session_scope(history) as session:
        result = stats.kpis(session, SINCE, NOW, NOW).as_dict()
        other = stats.kpis(session, SINCE, NOW, NOW, namespace="acme", flow_id="other").as_dict()
    assert result == {
        "runs_today": 2,
        "ended": 7,
        "succeeded": 4,
        "success_ratio": 0.5714,
        "failures": 2,
        "running_now": 3,
        "next_fire_at": "2026-11-20T13:00:00+00:00",
    }
    assert other == {
        "runs_today": 0,
        "ended": 1,
        "succeeded": 1,
        "success_ratio": 1.0,
        "failures": 0,
        "running_now": 0,
        "next_fire_at": None,
    }


def test_task_durations(history):
    with session_scope(history) as session:
        result = stats.task_durations(session, SINCE, NOW, namespace="acme", flow_id="etl")
        without_namespace = stats.task_durations(session, SINCE, NOW, flow_id="etl")
    common = {"namespace": "acme", "flow_id": "etl"}
    assert result == [
        {
            **common,
            "task_id": "extract",
            "count": 4,
            "avg_s": 2.5,
            "min_s": 1.0,
            "max_s": 4.0,
            "failures": 0,
            "p50_s": 2.5,
            "p95_s": 3.85,
        },
        {
            **common,
            "task_id": "load",
            "count": 4,
            "avg_s": 4.0,
            "min_s": 3.0,
            "max_s": 5.0,
            "failures": 1,
            "p50_s": 4.0,
            "p95_s": 4.9,
        },
    ]
    assert without_namespace == result


def test_slowest_and_most_failing_tasks(history):
    with session_scope(history) as session:
        slowest = stats.top_tasks(session, SINCE, NOW, by="slowest", limit=2)
        failing = stats.top_tasks(session, SINCE, NOW, by="failing")
        failing_etl = stats.top_tasks(session, SINCE, NOW, by="failing", flow_id="etl")
    assert [(t["flow_id"], t["task_id"], t["avg_s"]) for t in slowest] == [("other", "x", 100.0), ("etl", "load", 4.0)]
    assert [(t["task_id"], t["failures"]) for t in failing] == [("load", 1), ("x", 1)]
    assert [t["task_id"] for t in failing_etl] == ["load"]


def test_log_lines_per_day(history):
    with session_scope(history) as session:
        result = stats.log_lines_per_day(session, SINCE, NOW)
        etl = stats.log_lines_per_day(session, SINCE, NOW, namespace="acme", flow_id="etl")
    assert result == [
        {"day": "2026-11-17", "level": "DEBUG", "count": 1},
        {"day": "2026-11-17", "level": "ERROR", "count": 1},
        {"day": "2026-11-17", "level": "INFO", "count": 2},
        {"day": "2026-11-19", "level": "INFO", "count": 1},
        {"day": "2026-11-20", "level": "WARN", "count": 1},
    ]
    assert etl == [row for row in result if row["day"] != "2026-11-19"]


def test_where_counts_only_the_namespaces_a_person_may_read(history):
    """One more run, task run, log line and trigger in ``beta``: a viewer of ``acme`` only sees acme's numbers."""
    with session_scope(history) as session:
        session.add(
            Execution(id="b1", namespace="beta", flow_id="etl", flow_revision=1, state="RUNNING", created_at=at(20, 10))
        )
        session.flush()
        session.add(
            TaskRun(
                id="tb",
                execution_id="b1",
                namespace="beta",
                flow_id="etl",
                task_id="load",
                state="FAILED",
                created_at=at(20, 10),
                duration_ms=500_000,
            )
        )
        session.add(
            LogLine(
                execution_id="b1", namespace="beta", flow_id="etl", level="ERROR", message="m", timestamp=at(20, 10)
            )
        )
        session.add(FlowRecord(namespace="beta", flow_id="etl", revision=1, source=""))
        session.add(
            TriggerState(namespace="beta", flow_id="etl", trigger_id="soon", enabled=True, next_fire_at=at(20, 12, 5))
        )
    viewer = Principal("viewer", memberships={"acme": Role.VIEWER})
    runs, tasks = authz.readable(viewer, Execution.namespace), authz.readable(viewer, TaskRun.namespace)
    with session_scope(history) as session:
        everything = stats.kpis(session, SINCE, NOW, NOW)
        kpis = stats.kpis(
            session, SINCE, NOW, NOW, where=runs, trigger_where=authz.readable(viewer, TriggerState.namespace)
        )
        per_day = stats.executions_per_day(session, SINCE, NOW, where=runs)
        points = stats.duration_points(session, SINCE, NOW, where=runs)
        task_durations = stats.task_durations(session, SINCE, NOW, flow_id="etl", where=tasks)
        slowest = stats.top_tasks(session, SINCE, NOW, by="slowest", where=tasks)
        failing = stats.top_tasks(session, SINCE, NOW, by="failing", where=tasks)
        logs = stats.log_lines_per_day(session, SINCE, NOW, where=authz.readable(viewer, LogLine.namespace))
        nothing = stats.kpis(session, SINCE, NOW, NOW, where=authz.readable(Principal("nobody"), Execution.namespace))
    assert (everything.runs_today, everything.running_now, everything.next_fire_at) == (
        3,
        4,
        "2026-11-20T12:05:00+00:00",
    )
    assert kpis.as_dict() == {
        "runs_today": 2,
        "ended": 7,
        "succeeded": 4,
        "success_ratio": 0.5714,
        "failures": 2,
        "running_now": 3,
        "next_fire_at": "2026-11-20T13:00:00+00:00",
    }
    assert {"day": "2026-11-20", "state": "RUNNING", "count": 1} in per_day.counts
    assert sum(c["count"] for c in per_day.counts) == 9
    assert points.count == 6 and "b1" not in [p["id"] for p in points.points]
    assert [(t["namespace"], t["task_id"], t["count"]) for t in task_durations] == [
        ("acme", "extract", 4),
        ("acme", "load", 4),
    ]
    assert {t["namespace"] for t in slowest + failing} == {"acme"}
    assert [(t["task_id"], t["failures"]) for t in failing] == [("load", 1), ("x", 1)]
    assert {"day": "2026-11-20", "level": "ERROR", "count": 1} not in logs and len(logs) == 5
    assert (nothing.runs_today, nothing.ended, nothing.running_now) == (0, 0, 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_charts_of_the_whole_history_read_their_indexes_alone(history):
    """At a million executions a chart (or the count of an executions page) that reads each row (or looks its execution up, to leave tests of one task
    out) takes seconds: these statements must be answered from an index alone. EXPLAIN QUERY PLAN on SQLite."""
    statements: list[tuple[str, object]] = []

    def record(_connection, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    sqlalchemy.event.listen(history, "before_cursor_execute", record)
    with session_scope(history) as session:
        stats.executions_per_day(session, SINCE, NOW)
        stats.top_tasks(session, SINCE, NOW, by="slowest")
        stats.top_tasks(session, SINCE, NOW, by="failing")
        stats.task_durations(session, SINCE, NOW, namespace="acme", flow_id="etl")
        stats.log_lines_per_day(session, SINCE, NOW)
        stats.log_lines_per_day(session, SINCE, NOW, namespace="acme")
        stats.executions_per_day(session, SINCE, NOW, namespace="acme", flow_id="etl")
        viewer = Principal(name="viewer", memberships={"acme": Role.VIEWER})
        page = ExecutionFilter(where=authz.readable(viewer, Execution.namespace))
        search_executions(session, page, size=25)
        statements.pop()  # the page itself: tests/engine/store/test_search.py checks its plan
        before_points = len(statements)
        stats.duration_points(session, SINCE, NOW)
        del statements[before_points]  # the 5,000 newest points: their rows are read, newest first
        percentiles = statements[-2:]  # p50 and p95: read in duration order, never sorted
    sqlalchemy.event.remove(history, "before_cursor_execute", record)
    # Task charts (engine/store/task_summaries.py): which days are summarized (a small table), then each task's runs
    # of the rest of the window, one range read each; task_durations' percentiles: two reads in duration order.
    markers = [s for s in statements if "task_run_day_summary" in s[0]]
    walks = [s for s in statements if s[0].lstrip().upper().startswith("WITH")]
    ranked = [s for s in statements if "ORDER BY task_run.duration_ms" in s[0]]
    assert (len(markers), len(walks), len(ranked)) == (3, 3, 2 * 2)
    with history.connect() as connection:
        for statement, parameters in walks + ranked:
            plan = [d for *_, d in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            assert not any("TEMP B-TREE" in d for d in plan), (statement, plan)
            reads = [d for d in plan if d.startswith(("SCAN task_run", "SEARCH task_run"))]
            assert all("COVERING INDEX" in d for d in reads), (statement, plan)
            if (statement, parameters) in ranked:
                assert any(
                    "ix_task_run_task_duration (namespace=? AND flow_id=? AND task_id=? AND duration_ms>?)" in d
                    for d in reads
                ), plan
                continue
            # The first key's three reads stop at their first entry; every other one is a seek.
            assert len([d for d in reads if d.startswith("SCAN")]) == 3, (statement, plan)
            per_task = "ix_task_run_flow_task_stats (namespace=? AND flow_id=? AND task_id=? AND created_at>? AND created_at<?)"
            assert any(per_task in d for d in reads), (statement, plan)
    statements = [s for s in statements if s not in markers + walks + ranked]
    assert len(statements) == 6 + 3 * 4  # executions (all) and log lines (twice) a day at a time: the 17th to the 20th
    with history.connect() as connection:
        for statement, parameters in statements:
            plan = list(connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            # The ids of the test executions are read once (a list subquery), from their partial index.
            once = {step_id for step_id, _, _, detail in plan if detail.startswith("LIST SUBQUERY")}
            reads = [d for _, parent, _, d in plan if d.startswith(("SCAN", "SEARCH")) and parent not in once]
            assert [d for d in reads if "COVERING INDEX" not in d] == [], (statement, plan)
            tests = [d for _, parent, _, d in plan if parent in once]
            assert all("ix_execution_test" in d for d in tests), (statement, plan)
            assert not any("CORRELATED" in d for *_, d in plan), (statement, plan)
            if (statement, parameters) in percentiles:
                assert not any("TEMP B-TREE" in d for *_, d in plan), (statement, plan)


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_whole_history_charts_go_a_day_at_a_time_on_postgres(history):
    """Grouping a month of executions or log lines by day at once sorts them all (on disk, for 3,000,000 lines):
    0.87 and 1.36 s at 1,000,000 executions, against 0.23 and 0.63 s a day at a time. One flow's lines stay one
    statement: fewer, read in table order (0.22 s, against 0.87 s a day at a time)."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _many):
        statements.append(statement)

    sqlalchemy.event.listen(history, "before_cursor_execute", record)
    with session_scope(history) as session:
        stats.executions_per_day(session, SINCE, NOW)
        executions = len(statements)
        stats.log_lines_per_day(session, SINCE, NOW)
        lines = len(statements) - executions
        stats.log_lines_per_day(session, SINCE, NOW, namespace="acme", flow_id="etl")
        flow_lines = len(statements) - executions - lines
    sqlalchemy.event.remove(history, "before_cursor_execute", record)
    assert (executions, lines, flow_lines) == (4, 4, 1)  # the 17th to the 20th, a statement each
