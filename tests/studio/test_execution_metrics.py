"""The execution page shows the counters and timers a task's script reported, in a table under its outputs."""

from __future__ import annotations

import pytest

from studio import display
from tests.support.studio import api

YAML = {"content-type": "application/x-yaml"}

FLOW = (
    "id: measured\nnamespace: exec.metrics\ntasks:\n  - id: count\n    type: python\n    script: |\n"
    "      from engine.sdk import counter, timer\n"
    "      counter('rows', 40, table='sales')\n      counter('rows', 2, table='sales')\n"
    "      timer('fetch', 0.5)\n      timer('fetch', 1.5)\n"
)


def test_metric_rows_are_worded_for_the_page():
    assert display.metric({"type": "counter", "name": "rows", "tags": {"table": "sales"}, "value": 42}) == {
        "name": "rows",
        "tags": "table=sales",
        "kind": "counter",
        "value": "42",
    }
    timer = {"type": "timer", "name": "fetch", "tags": {}, "count": 2, "total": 2.0, "min": 0.5, "max": 1.5}
    assert display.metric(timer)["value"] == "2 x 1.0 s avg, total 2.0 s (min 500 ms, max 1.5 s)"


@pytest.mark.slow
def test_the_outputs_tab_shows_a_task_runs_metrics(studio, page):
    url = studio["url"] + "/api/v1"
    assert api(studio).post(f"{url}/flows", content=FLOW, headers=YAML, timeout=30).status_code in (200, 201)
    execution = (
        api(studio)
        .post(f"{url}/executions/trigger/exec.metrics/measured", params={"wait": "true"}, json={}, timeout=60)
        .json()
    )
    assert execution["state"] == "SUCCESS"
    page.goto(f"{studio['url']}/executions/{execution['id']}")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    page.click("#tab-outputs")
    table = page.locator(".task-metrics")
    table.wait_for(timeout=15_000)
    text = table.inner_text()
    assert "rows" in text and "table=sales" in text and "42" in text
    assert "fetch" in text and "2 x 1.0 s avg, total 2.0 s (min 500 ms, max 1.5 s)" in text
