"""The dashboard in a real browser over a known history seeded into the studio's database: the numbers the
charts and KPI cards show, filters redrawing without a reload, and clicks opening the executions."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.config import load_settings
from engine.store.database import open_database, session_scope
from engine.store.tables import Execution, LogLine, TaskRun, TriggerState
from tests.support.studio import api

pytestmark = pytest.mark.slow

NAMESPACE = "dash.tests"


@dataclass(frozen=True)
class Seeded:
    """The history's days are counted from the moment it was seeded; the dashboard counts from its own today."""

    now: dt.datetime
    next_fire: dt.datetime

    @property
    def today(self) -> dt.datetime:
        return self.now.replace(hour=0, minute=0, second=0, microsecond=0)

    @property
    def earlier_today(self) -> dt.datetime:
        return self.today + (self.now - self.today) / 2  # today, before now, whatever the hour

    def day(self, offset: int) -> str:
        return (self.today + dt.timedelta(days=offset)).date().isoformat()

    def at(self, offset: int, hour: int = 10) -> dt.datetime:
        return self.today + dt.timedelta(days=offset, hours=hour)


def _now_clear_of_midnight() -> dt.datetime:
    """Seeding and looking must happen on the same day: a run that reaches this module just before midnight UTC
    waits for the new day rather than straddle it (the module takes a couple of minutes)."""
    now = dt.datetime.now(dt.UTC)
    to_midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1) - now
    if to_midnight < dt.timedelta(minutes=10):
        time.sleep(to_midnight.total_seconds() + 1)
        now = dt.datetime.now(dt.UTC)
    return now


def executions(seeded: Seeded) -> list[tuple[str, str, str, dt.datetime, int | None]]:
    """id, flow, state, created, duration (s) or None."""
    at = seeded.at
    return [
        ("dash-old", "etl", "SUCCESS", at(-10), 60),  # in the 30-day window only
        ("dash-w1", "etl", "SUCCESS", at(-3), 40),
        ("dash-w2", "etl", "WARNING", at(-3, 11), 50),
        ("dash-y1", "etl", "SUCCESS", at(-1), 10),
        ("dash-y2", "etl", "SUCCESS", at(-1, 11), 20),
        ("dash-y3", "etl", "FAILED", at(-1, 12), 30),
        ("dash-t1", "report", "SUCCESS", seeded.earlier_today, 5),
        ("dash-t2", "etl", "RUNNING", seeded.earlier_today, None),
    ]


FLOW = "id: {id}\nnamespace: dash.tests\ntasks:\n  - {{id: extract, type: log, message: x}}\n  - {{id: load, type: log, message: y}}\n"


@pytest.fixture(scope="module")
def history(studio) -> Seeded:
    now = _now_clear_of_midnight()
    seeded = Seeded(now, (now + dt.timedelta(days=1)).replace(hour=6, minute=30, second=0, microsecond=0))
    rows = executions(seeded)
    for flow_id in ("etl", "report"):
        response = api(studio).post(
            f"{studio['url']}/api/v1/flows",
            content=FLOW.format(id=flow_id),
            headers={"content-type": "application/x-yaml"},
            timeout=60,
        )
        assert response.status_code < 300, response.text
    engine = open_database(load_settings({"LANNER_HOME": str(studio["home"])}).database_url)
    with session_scope(engine) as session:
        for execution_id, flow_id, state, created, seconds in rows:
            session.add(
                Execution(
                    id=execution_id,
                    namespace=NAMESPACE,
                    flow_id=flow_id,
                    flow_revision=1,
                    state=state,
                    created_at=created,
                    started_at=created,
                    ended_at=None if seconds is None else created + dt.timedelta(seconds=seconds),
                    duration_ms=None if seconds is None else seconds * 1000,
                    # the executor advances not-ended executions untouched for a while: keep it off this fake one
                    updated_at=now + dt.timedelta(days=1),
                )
            )
        session.flush()
        for execution_id, flow_id, state, created, seconds in rows:
            if seconds is None:
                continue
            for task_id, share in (("extract", 0.2), ("load", 0.8)):
                failed = state == "FAILED" and task_id == "load"
                session.add(
                    TaskRun(
                        id=f"{execution_id}-{task_id}",
                        execution_id=execution_id,
                        namespace=NAMESPACE,
                        flow_id=flow_id,
                        task_id=task_id,
                        state="FAILED" if failed else "SUCCESS",
                        created_at=created,
                        duration_ms=int(seconds * share * 1000),
                    )
                )
        for offset, level, count in ((-1, "INFO", 3), (-1, "ERROR", 1), (0, "INFO", 2)):
            for number in range(count):
                session.add(
                    LogLine(
                        execution_id="dash-y1",
                        namespace=NAMESPACE,
                        flow_id="etl",
                        level=level,
                        message=f"line {number}",
                        timestamp=seeded.earlier_today if offset == 0 else seeded.at(offset, 13),
                    )
                )
        session.add(
            TriggerState(
                namespace=NAMESPACE, flow_id="etl", trigger_id="nightly", enabled=True, next_fire_at=seeded.next_fire
            )
        )
    engine.dispose()
    return seeded


def traces(page, chart: str) -> list[dict]:
    return page.evaluate(
        """(chart) => Array.from(document.querySelector('#' + chart).data || []).map(t => ({
            name: t.name, type: t.type, x: Array.from(t.x || []), y: Array.from(t.y || []),
            median: t.median ? Array.from(t.median) : null}))""",
        chart,
    )


def open_dashboard(page, studio, query: str) -> None:
    page.goto(f"{studio['url']}/dashboard?{query}")
    page.wait_for_function(
        "document.querySelector('#chart-per-day')?.data?.some(t => t.name === 'SUCCESS')", timeout=120_000
    )


def kpi(page, name: str) -> str:
    return page.locator(f"#kpi-{name} .kpi-value").inner_text().strip()


def test_charts_and_kpis_show_the_seeded_history(studio, page, history):
    open_dashboard(page, studio, f"namespace={NAMESPACE}&window=7d")
    days = [history.day(n) for n in range(-6, 1)]
    by_name = {t["name"]: t for t in traces(page, "chart-per-day")}
    assert list(by_name) == ["SUCCESS", "WARNING", "FAILED", "RUNNING", "avg duration (s)"]
    assert all(t["x"] == days for t in by_name.values())
    assert by_name["SUCCESS"]["y"] == [0, 0, 0, 1, 0, 2, 1]
    assert by_name["WARNING"]["y"] == [0, 0, 0, 1, 0, 0, 0]
    assert by_name["FAILED"]["y"] == [0, 0, 0, 0, 0, 1, 0]
    assert by_name["RUNNING"]["y"] == [0, 0, 0, 0, 0, 0, 1]
    assert by_name["avg duration (s)"]["y"] == [None, None, None, 45, None, 20, 5]

    points, p50, p95 = traces(page, "chart-durations")
    assert sorted(points["y"]) == [5, 10, 20, 30, 40, 50]
    assert p50["name"] == "p50 25 s" and p50["y"] == [25, 25]  # median of 5..50
    assert p95["name"] == "p95 47.5 s"

    logs = {t["name"]: t["y"] for t in traces(page, "chart-logs")}
    assert logs == {"ERROR": [0, 0, 0, 0, 0, 1, 0], "INFO": [0, 0, 0, 0, 0, 3, 2]}
    assert page.locator("#chart-tasks").count() == 0  # no flow chosen

    assert kpi(page, "runs-today") == "2"
    assert kpi(page, "success") == "66.7 %"  # 4 SUCCESS of 6 ended
    assert kpi(page, "failures") == "1"
    assert kpi(page, "running") == "1"
    assert kpi(page, "next") == f"{history.next_fire:%Y-%m-%d %H:%M} UTC"
    slowest = page.locator("#slowest-tasks .task-row").all_inner_texts()
    # etl's load (avg 24 s) and extract (6 s), then report's load (4 s) and extract (1 s)
    assert [tuple(row.split("\t")[1:3]) for row in slowest] == [
        ("etl", "load"),
        ("etl", "extract"),
        ("report", "load"),
        ("report", "extract"),
    ]
    failing = page.locator("#failing-tasks .task-row").all_inner_texts()
    assert len(failing) == 1 and "load" in failing[0]


def test_changing_the_window_redraws_without_a_reload(studio, page, history):
    open_dashboard(page, studio, f"namespace={NAMESPACE}&window=7d")
    page.evaluate("window.__still_here = true")
    page.click("#window-30d")
    page.wait_for_function(
        "document.querySelector('#chart-per-day').data.find(t => t.name === 'SUCCESS').x.length === 30",
        timeout=30_000,
    )
    success = next(t for t in traces(page, "chart-per-day") if t["name"] == "SUCCESS")
    assert success["x"][0] == history.day(-29) and success["y"][success["x"].index(history.day(-10))] == 1
    assert sum(success["y"]) == 5
    assert kpi(page, "success") == "71.4 %"  # 5 of 7
    assert page.evaluate("window.__still_here") is True

    page.click("#window-custom")
    page.locator("#date-from").fill(history.day(-3))
    # The first pick is applied (day -3 to today) before the second: a reply to the first re-renders both
    # fields, and a second pick typed while it is in flight would be overwritten (no person is that fast).
    page.wait_for_function(
        "document.querySelector('#chart-per-day').data.find(t => t.name === 'SUCCESS')?.x.length === 4",
        timeout=30_000,
    )
    page.locator("#date-to").fill(history.day(-3))
    page.wait_for_function(
        "document.querySelector('#chart-per-day').data.find(t => t.name === 'SUCCESS')?.x.length === 1",
        timeout=30_000,
    )
    by_name = {t["name"]: t["y"] for t in traces(page, "chart-per-day")}
    assert by_name == {"SUCCESS": [1], "WARNING": [1], "avg duration (s)": [45]}
    assert page.evaluate("window.__still_here") is True


def test_a_flow_shows_its_task_boxes(studio, page, history):
    open_dashboard(page, studio, f"namespace={NAMESPACE}&flow=etl&window=7d")
    page.wait_for_function("document.querySelector('#chart-tasks')?.data?.length === 1", timeout=120_000)
    (box,) = traces(page, "chart-tasks")
    assert box["type"] == "box" and box["x"] == ["extract", "load"]
    assert box["median"] == [6, 24]  # p50 of 2, 4, 6, 8, 10 and of 8, 16, 24, 32, 40
    by_name = {t["name"]: t["y"] for t in traces(page, "chart-per-day")}
    assert by_name["SUCCESS"] == [0, 0, 0, 1, 0, 2, 0]  # the report run of today is not etl's
    assert kpi(page, "runs-today") == "1"
    if os.environ.get("LANNER_SCREENSHOTS"):
        page.wait_for_timeout(1000)  # let plotly finish its transitions before the picture
        page.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"))


def _center(page, selector: str, trace: int, point: int) -> dict:
    return page.evaluate(
        """([selector, trace, point]) => {
            const box = document.querySelectorAll(selector)[trace].querySelectorAll('.point')[point]
                .getBoundingClientRect();
            return {x: box.x + box.width / 2, y: box.y + box.height / 2};
        }""",
        [selector, trace, point],
    )


def test_clicking_a_bar_opens_its_executions(studio, page, history):
    open_dashboard(page, studio, f"namespace={NAMESPACE}&window=7d")
    names = [t["name"] for t in traces(page, "chart-per-day")]
    spot = _center(page, "#chart-per-day .barlayer .trace", names.index("FAILED"), 5)
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_url("**/executions?*", timeout=30_000)
    assert page.url.endswith(
        f"/executions?namespace={NAMESPACE}&state=FAILED&from={history.day(-1)}&to={history.day(-1)}"
    )


def test_clicking_a_point_opens_that_execution(studio, page, history):
    open_dashboard(page, studio, f"namespace={NAMESPACE}&flow=etl&window=7d")
    points = traces(page, "chart-durations")[0]
    slowest = points["y"].index(max(points["y"]))  # dash-w2, 50 s
    spot = _center(page, "#chart-durations .scatterlayer .trace", 0, slowest)
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_url("**/executions/dash-w2", timeout=30_000)


def test_choosing_namespace_and_flow_redraws_without_a_reload(studio, page, history):
    page.goto(f"{studio['url']}/dashboard?window=7d")
    page.wait_for_function("document.querySelector('#chart-per-day')?.data !== undefined", timeout=120_000)
    page.evaluate("window.__still_here = true")
    page.click("#namespace-select")
    page.get_by_role("option", name=NAMESPACE, exact=True).click()
    page.wait_for_function(
        "document.querySelector('#chart-per-day').data.find(t => t.name === 'FAILED')?.y.join() === '0,0,0,0,0,1,0'",
        timeout=30_000,
    )
    # The FAILED trace may read the same for every namespace: wait for the namespace's own count too.
    page.wait_for_function(
        "document.querySelector('#kpi-runs-today .kpi-value')?.innerText.trim() === '2'", timeout=30_000
    )
    page.click("#flow-select")
    page.get_by_role("option", name="report", exact=True).click()
    page.wait_for_function("document.querySelector('#chart-tasks')?.data?.length === 1", timeout=60_000)
    assert traces(page, "chart-tasks")[0]["x"] == ["extract", "load"]
    by_name = {t["name"]: t["y"] for t in traces(page, "chart-per-day")}
    assert by_name == {"SUCCESS": [0, 0, 0, 0, 0, 0, 1], "avg duration (s)": [None] * 6 + [5]}
    assert kpi(page, "failures") == "0" and kpi(page, "next") == "none scheduled"
    assert page.evaluate("window.__still_here") is True
