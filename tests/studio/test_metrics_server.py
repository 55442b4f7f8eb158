"""`lanner server`: its parts (the studio's API, the executor, the scheduler, the workers) share one metrics folder
for the run, so ONE scrape of the studio's port gives them all. A real Prometheus scrapes it while flows succeed,
fail and retry; the dashboard's queries are asked through its HTTP API (the cluster of separate processes, with
the scheduler's fires and the alert rules, is tests/engine/test_metrics_prometheus.py)."""

from __future__ import annotations

import time
import urllib.parse

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.ids import unique
from tests.support.prometheus import MISSING, PROMETHEUS, dashboard_queries, prometheus

pytestmark = [pytest.mark.slow, pytest.mark.skipif(PROMETHEUS is None, reason=MISSING)]
NS = "metrics.server"
ROUNDS = 2
# Series this test does not cause: schedule fires (the cluster test has them) and SLA breaches.
NOT_CAUSED_HERE = {"Scheduler lateness (p95) and fires", "SLA breaches"}


def _run(admin_api: httpx.Client, flow_id: str, tasks: str) -> str:
    source = f"id: {flow_id}\nnamespace: {NS}\ntasks:\n{tasks}"
    assert admin_api.post("/flows", content=source, headers={"content-type": "application/x-yaml"}).is_success
    started = admin_api.post(f"/executions/trigger/{NS}/{flow_id}")
    assert started.status_code == 201, started.text
    return started.json()["id"]


def _wait_ended(admin_api: httpx.Client, execution_id: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = admin_api.get(f"/executions/{execution_id}").json()["state"]
        if state in ("SUCCESS", "FAILED", "WARNING"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"{execution_id} did not end")


def test_one_scrape_of_the_studio_port_gives_every_part(studio, admin_api, tmp_path):
    text = httpx.get(f"{studio['url']}/metrics", timeout=30).text
    processes = {
        sample.labels["process"]
        for family in text_string_to_metric_families(text)
        if family.name == "lanner_process_info"
        for sample in family.samples
    }
    assert processes == {"api", "executor", "scheduler", "trigger-listener", "worker"}  # each part, in one scrape
    assert httpx.get(f"{studio['url']}/health/live").json() == {"status": "live"}
    assert httpx.get(f"{studio['url']}/health/ready").json() == {"status": "ready"}

    ids = {name: unique(name) for name in ("ok", "fails", "retry")}
    tasks = {
        "ok": "  - {id: hello, type: log, message: hi}\n  - id: load\n    type: shell\n    commands:\n      - >-\n"
        """        echo '::lanner::{"metric":{"type":"counter","name":"rows","value":5}}'\n""",
        "fails": "  - {id: boom, type: fail, message: on purpose}\n",
        "retry": "  - {id: flaky, type: fail, message: again, retry: {type: constant, interval: 100ms, maxAttempts: 2}}\n",
    }
    host = urllib.parse.urlsplit(studio["url"]).netloc
    with prometheus(tmp_path / "prometheus", {"lanner-server": host}) as prom:
        for round_ in range(ROUNDS):
            started = {name: _run(admin_api, ids[name], tasks[name]) for name in ids}
            assert {name: _wait_ended(admin_api, e) for name, e in started.items()} == {
                "ok": "SUCCESS", "fails": "FAILED", "retry": "FAILED"
            }  # fmt: skip
            assert admin_api.get(f"/executions/{unique('nothing')}").status_code == 404  # an API error
            if round_ < ROUNDS - 1:
                time.sleep(3)  # scraped between the rounds: rate() and increase() see the second one grow
        prom.wait_for(f'sum(lanner_executions_ended_total{{flow="{ids["fails"]}",state="FAILED"}})', ROUNDS)
        time.sleep(2)
        assert prom.value(f'sum(lanner_executions_ended_total{{flow="{ids["ok"]}",state="SUCCESS"}})') == ROUNDS
        assert prom.value(f'sum(lanner_task_run_retries_total{{flow="{ids["retry"]}"}})') == ROUNDS
        assert prom.value(f'sum(lanner_task_metric_counter_total{{flow="{ids["ok"]}",metric="rows"}})') == 5 * ROUNDS
        assert prom.value(f'sum(lanner_task_runs_ended_total{{flow="{ids["retry"]}",state="FAILED"}})') == 2 * ROUNDS
        empty = [f"{title}: {expr}" for title, expr in dashboard_queries()
                 if title not in NOT_CAUSED_HERE and not prom.query(expr)]  # fmt: skip
        assert empty == []
