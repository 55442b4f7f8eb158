"""The dashboard's figures, windows and links from known aggregates, without a browser."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core import palette
from engine.identity import authz
from studio import charts
from studio.pages.dashboard.state import Kpis, TaskRanking
from studio.services import history

DAYS = ["2026-11-17", "2026-11-18", "2026-11-19"]
PER_DAY = {
    "counts": [
        {"day": "2026-11-17", "state": "FAILED", "count": 1},
        {"day": "2026-11-17", "state": "SUCCESS", "count": 2},
        {"day": "2026-11-19", "state": "SUCCESS", "count": 4},
        {"day": "2026-11-19", "state": "RUNNING", "count": 1},
        {"day": "2026-11-19", "state": "PAUSED", "count": 1},
    ],
    "durations": [
        {"day": "2026-11-17", "ended": 3, "avg_duration_s": 20.0},
        {"day": "2026-11-19", "ended": 4, "avg_duration_s": 12.5},
    ],
}


def traces(figure) -> list[dict]:
    return charts.as_dict(figure)["data"]


def test_per_day_stacks_states_in_a_fixed_order_with_zero_days_and_the_average_on_y2():
    figure = charts.per_day_figure(PER_DAY, DAYS)
    data = traces(figure)
    assert [t["name"] for t in data] == ["SUCCESS", "FAILED", "RUNNING", "PAUSED", charts.AVERAGE]
    assert [list(t["y"]) for t in data[:4]] == [[2, 0, 4], [1, 0, 0], [0, 0, 1], [0, 0, 1]]
    assert all(list(t["x"]) == DAYS for t in data)
    assert [t["marker"]["color"] for t in data[:4]] == ["#16a34a", "#dc2626", "#3b82f6", "#0ea5e9"]
    assert [list(c) for c in data[0]["customdata"]] == [[day, "SUCCESS"] for day in DAYS]
    average = data[4]
    assert average["yaxis"] == "y2" and list(average["y"]) == [20.0, None, 12.5]
    layout = charts.as_dict(figure)["layout"]
    assert layout["barmode"] == "stack" and layout["yaxis2"]["overlaying"] == "y"
    assert charts.per_day_states(PER_DAY) == ["SUCCESS", "FAILED", "RUNNING", "PAUSED"]


def test_per_day_click_names_the_day_and_state():
    states = charts.per_day_states(PER_DAY)
    assert charts.per_day_click(states, {"x": "2026-11-17", "curveNumber": 1, "pointNumber": 0}) == (
        "2026-11-17",
        "FAILED",
    )
    # the average line (after the bars): the day, any state
    assert charts.per_day_click(states, {"x": "2026-11-19", "curveNumber": 4}) == ("2026-11-19", "")


def test_queued_and_created_share_a_colour_and_unknown_states_get_one():
    figure = charts.per_day_figure(
        {
            "counts": [{"day": DAYS[0], "state": s, "count": 1} for s in ("QUEUED", "CREATED", "KILLING", "NEWER")],
            "durations": [],
        },
        DAYS[:1],
    )
    colors = {t["name"]: t["marker"]["color"] for t in traces(figure) if t["type"] == "bar"}
    # KILLING has its colour in the one palette now (the Gantt chart already drew it so)
    assert colors == {"QUEUED": "#94a3b8", "CREATED": "#94a3b8", "KILLING": "#525252", "NEWER": palette.OTHER_COLOUR}


DURATIONS = {
    "points": [
        {"id": "e3", "started_at": "2026-11-19T10:00:00", "ended_at": "2026-11-19T10:00:30", "duration_s": 30.0},
        {"id": "e2", "started_at": "2026-11-18T10:00:00", "ended_at": "2026-11-18T10:00:20", "duration_s": 20.0},
        {"id": "e1", "started_at": "2026-11-17T10:00:00", "ended_at": "2026-11-17T10:00:10", "duration_s": 10.0},
    ],
    "count": 3,
    "p50_s": 20.0,
    "p95_s": 29.0,
}


def test_durations_points_and_percentile_lines():
    data = traces(charts.durations_figure(DURATIONS))
    points, p50, p95 = data
    assert list(points["y"]) == [30.0, 20.0, 10.0] and list(points["customdata"]) == ["e3", "e2", "e1"]
    assert points["mode"] == "markers"
    assert p50["name"] == "p50 20 s" and list(p50["y"]) == [20.0, 20.0]
    assert p95["name"] == "p95 29 s" and list(p95["y"]) == [29.0, 29.0]
    assert list(p95["x"]) == ["2026-11-17 10:00:00", "2026-11-19 10:00:00"]  # across every point
    ids = [p["id"] for p in DURATIONS["points"]]
    assert charts.durations_click(ids, {"curveNumber": 0, "pointNumber": 1}) == "e2"
    assert charts.durations_click(ids, {"curveNumber": 1, "pointNumber": 1}) == ""  # the p50 line


def test_durations_times_are_utc_without_offset():
    point = {**DURATIONS["points"][0], "started_at": "2026-11-19T12:00:00+02:00"}
    (points, *_) = traces(charts.durations_figure({**DURATIONS, "points": [point]}))
    assert list(points["x"]) == ["2026-11-19 10:00:00"]


def test_durations_without_runs_has_no_lines():
    data = traces(charts.durations_figure({"points": [], "count": 0, "p50_s": None, "p95_s": None}))
    assert len(data) == 1 and list(data[0]["y"]) == []


def test_task_boxes_from_min_p50_p95_max():
    tasks = [
        {"task_id": "extract", "count": 4, "avg_s": 2.5, "min_s": 1.0, "max_s": 4.0, "p50_s": 2.5, "p95_s": 3.85},
        {"task_id": "load", "count": 3, "avg_s": 4.0, "min_s": 3.0, "max_s": 5.0, "p50_s": 4.0, "p95_s": 4.9},
        {"task_id": "never_ended", "count": 1, "avg_s": None, "min_s": None, "max_s": None, "p50_s": None,
         "p95_s": None},
    ]  # fmt: skip
    (box,) = traces(charts.tasks_figure(tasks))
    assert box["type"] == "box" and list(box["x"]) == ["extract", "load"]
    assert list(box["lowerfence"]) == [1.0, 3.0] and list(box["q1"]) == [1.0, 3.0]
    assert list(box["median"]) == [2.5, 4.0] and list(box["q3"]) == [3.85, 4.9]
    assert list(box["upperfence"]) == [4.0, 5.0] and list(box["mean"]) == [2.5, 4.0]
    assert traces(charts.tasks_figure([])) == []


def test_logs_stacked_by_level():
    rows = [
        {"day": "2026-11-17", "level": "INFO", "count": 2},
        {"day": "2026-11-17", "level": "ERROR", "count": 1},
        {"day": "2026-11-19", "level": "DEBUG", "count": 5},
    ]
    data = traces(charts.logs_figure(rows, DAYS))
    assert [t["name"] for t in data] == ["ERROR", "INFO", "DEBUG"]
    assert [list(t["y"]) for t in data] == [[1, 0, 0], [2, 0, 0], [0, 0, 5]]


NOW = dt.datetime(2026, 11, 20, 12, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("kind", "start", "end", "since", "until", "days"),
    [
        ("24h", "", "", dt.datetime(2026, 11, 19, 12, 30, tzinfo=dt.UTC), NOW, ["2026-11-19", "2026-11-20"]),
        ("7d", "", "", dt.datetime(2026, 11, 14, tzinfo=dt.UTC), NOW, charts.days_between(dt.date(2026, 11, 14),
                                                                                      dt.date(2026, 11, 20))),
        ("custom", "2026-11-02", "2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
         dt.datetime(2026, 11, 3, tzinfo=dt.UTC), ["2026-11-01", "2026-11-02"]),
    ],
)  # fmt: skip
def test_windows(kind, start, end, since, until, days):
    w = history.window(kind, start, end, NOW)
    assert (w.since, w.until, w.days) == (since, until, days)


def test_thirty_days_ends_today():
    w = history.window("30d", now=NOW)
    assert len(w.days) == 30 and w.days[-1] == "2026-11-20"


def test_executions_url_leaves_out_empty_filters():
    assert history.executions_url("acme", "", "FAILED", "2026-11-17", "2026-11-17") == (
        "/executions?namespace=acme&state=FAILED&from=2026-11-17&to=2026-11-17"
    )
    assert history.executions_url() == "/executions"


def test_kpi_texts():
    numbers = {"runs_today": 3, "ended": 8, "succeeded": 6, "success_ratio": 0.75, "failures": 2, "running_now": 1,
               "next_fire_at": "2026-11-20T13:00:00"}  # fmt: skip
    texts = Kpis.of(history.kpi_numbers(numbers))  # as history.dashboard gives them
    assert texts == Kpis(
        runs_today="3",
        success="75.0 %",
        success_detail="6 of 8 ended",
        failures="2",
        running="1",
        next="2026-11-20 13:00 UTC",
    )
    idle = {"runs_today": 0, "ended": 0, "succeeded": 0, "success_ratio": None, "failures": 0, "running_now": 0,
            "next_fire_at": None}  # fmt: skip
    none = Kpis.of(history.kpi_numbers(idle))
    assert (none.success, none.next) == ("-", "none scheduled")


def test_day_axis_has_a_tick_a_day_only_when_few():
    layout = charts.as_dict(charts.per_day_figure(PER_DAY, DAYS))["layout"]
    assert layout["xaxis"]["type"] == "date" and layout["xaxis"]["dtick"] == 86_400_000
    many = charts.days_between(dt.date(2026, 10, 1), dt.date(2026, 10, 30))
    assert "dtick" not in charts.as_dict(charts.logs_figure([], many))["layout"]["xaxis"]


def test_dashboard_reads_the_database(database, monkeypatch):
    """history.dashboard over a real database (SQLite, and PostgreSQL when reachable)."""
    from engine.store.database import session_scope
    from engine.store.tables import Execution, TaskRun

    monkeypatch.setattr(history, "database", lambda: database)
    with session_scope(database) as session:
        for number, (state, seconds) in enumerate((("SUCCESS", 10), ("FAILED", 30), ("RUNNING", None))):
            created = dt.datetime(2026, 11, 19, 10 + number, tzinfo=dt.UTC)
            session.add(
                Execution(id=f"e{number}", namespace="acme", flow_id="etl", flow_revision=1, state=state,
                          created_at=created, started_at=created, duration_ms=seconds and seconds * 1000)
            )  # fmt: skip
            session.flush()
            session.add(
                TaskRun(id=f"t{number}", execution_id=f"e{number}", namespace="acme", flow_id="etl", task_id="load",
                        state=state, created_at=created, duration_ms=seconds and seconds * 500)
            )  # fmt: skip
    found = history.dashboard(authz.LOCAL, history.window("7d", now=NOW), "acme", "etl")
    assert found.per_day_states == ["SUCCESS", "FAILED", "RUNNING"]
    bars = {t["name"]: list(t["y"]) for t in traces(found.per_day)}
    assert bars["FAILED"] == [0, 0, 0, 0, 0, 1, 0] and bars[charts.AVERAGE][5] == 20.0
    assert found.execution_ids == ["e1", "e0"]  # newest first, ended only
    kpis = Kpis.of(found.kpis)
    assert (kpis.success, kpis.failures, kpis.running) == ("50.0 %", "1", "1")
    (box,) = traces(found.tasks)
    assert list(box["x"]) == ["load"] and list(box["median"]) == [10.0]
    assert [TaskRanking.of(task) for task in found.slowest] == [
        TaskRanking(namespace="acme", flow="etl", task="load", runs="3", failures="1", avg="10.0 s", max="15.0 s")
    ]
    assert [row["task_id"] for row in found.failing] == ["load"]
    assert history.dashboard(authz.LOCAL, history.window("7d", now=NOW), "other").slowest == []


def test_count_axes_tick_whole_numbers():
    layout = charts.as_dict(charts.per_day_figure(PER_DAY, DAYS))["layout"]
    assert layout["yaxis"]["dtick"] == 1 and layout["yaxis"]["tickformat"] == ",d"  # stacks of at most 6
    tall = [{"day": DAYS[0], "level": "INFO", "count": 500}]
    assert "dtick" not in charts.as_dict(charts.logs_figure(tall, DAYS))["layout"]["yaxis"]
