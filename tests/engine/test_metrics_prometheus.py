"""A real Prometheus scraping a real Lanner cluster (API, executor, a pool of two workers and a scheduler, each
its own process on its own metrics port): flows that succeed, fail and retry, then every query of the Grafana
dashboard and of the alert rules (read from monitoring/, so they cannot drift) asked through Prometheus' HTTP API.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session, select

from engine.store import triggers as trigger_store
from engine.store.tables import Execution
from tests.support import ROOT
from tests.support.cluster import Cluster
from tests.support.dashboard_render import render_dashboard
from tests.support.ids import unique
from tests.support.ports import free_port
from tests.support.prometheus import (
    MISSING,
    MONITORING,
    PROMETHEUS,
    PROMTOOL,
    Prometheus,
    alert_rules,
    dashboard_queries,
    metric_names,
    prometheus,
)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(PROMETHEUS is None, reason=MISSING)]
NS = "metrics"
ROUNDS = 2  # each flow runs twice, with scrapes between: rate() and increase() see the second round grow
# Panels whose series only exist once something happens that this cluster does not do.
MAY_BE_EMPTY = {"SLA breaches"}  # counted by flows' SLAs (engine.metrics.record.sla_breached)
TASK_RUNS_PER_ROUND = 6  # hello, boom, flaky's three attempts and load


def _flow(flow_id: str, tasks: str, extra: str = "") -> str:
    return f"id: {flow_id}\nnamespace: {NS}\n{extra}tasks:\n{tasks}"


class Scenario:
    def __init__(self, cluster: Cluster, prom: Prometheus, ids: dict[str, str], since: float) -> None:
        self.cluster, self.prom, self.ids, self.since = cluster, prom, ids, since


def _wait_ready(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, f"{url}: its process exited"
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered 200")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, redis_server) -> Iterator[Scenario]:
    home = tmp_path_factory.mktemp("metrics-cluster")
    cluster = Cluster(home, f"sqlite:///{home / 'lanner.db'}", redis_server)
    ports = {part: free_port() for part in ("api", "executor", "worker", "scheduler")}
    ids = {name: unique(name) for name in ("ok", "fails", "retry", "rows", "scheduled")}
    cluster.deploy(_flow(ids["scheduled"], "  - {id: tick, type: log, message: tick}\n",
                         "triggers:\n  - {id: every, type: schedule, cron: '* * * * *'}\n"))  # fmt: skip
    with Session(cluster.db) as session:  # a slot missed a little while ago: the scheduler fires it at once
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).isoformat()
        trigger_store.ensure_trigger_state(session, NS, ids["scheduled"], "every", {"lastSlot": since})
    targets = {f"lanner-{part}": f"127.0.0.1:{port}" for part, port in ports.items()}
    since = time.time()
    with prometheus(home / "prometheus", targets) as prom:
        processes = {
            "api": cluster.start("api", "api", "--port", str(ports["api"])),
            "executor": cluster.start("executor", "executor", "--metrics-port", str(ports["executor"])),
            "worker": cluster.start("worker", "worker", "-n", "2", "--metrics-port", str(ports["worker"])),
            "scheduler": cluster.start("scheduler", "scheduler", "--metrics-port", str(ports["scheduler"])),
        }
        try:
            for part, port in ports.items():
                _wait_ready(f"http://127.0.0.1:{port}/health/ready", processes[part])
            flows = {
                "ok": _flow(ids["ok"], "  - {id: hello, type: log, message: hi}\n"),
                "fails": _flow(ids["fails"], "  - {id: boom, type: fail, message: on purpose}\n"),
                "retry": _flow(
                    ids["retry"],
                    "  - {id: flaky, type: fail, message: again, retry: {type: constant, interval: 100ms, maxAttempts: 3}}\n",
                ),
                "rows": _flow(
                    ids["rows"],
                    "  - id: load\n    type: shell\n    commands:\n      - >-\n"
                    """        echo '::lanner::{"metric":{"type":"counter","name":"rows","value":5}}'\n""",
                ),
            }
            for round_ in range(ROUNDS):
                started = [cluster.run(yaml) for yaml in flows.values()]
                for execution_id in started:
                    cluster.wait(execution_id, timeout=60)
                missing = httpx.get(f"http://127.0.0.1:{ports['api']}/api/v1/executions/{unique('nothing')}")
                assert missing.status_code == 404
                # Scraped between the rounds, whatever the machine's load: increase() needs a sample of each
                # round, and a counter first seen already at its final value would show no increase.
                prom.wait_for(
                    f'sum(lanner_task_runs_ended_total{{namespace="{NS}",flow!="{ids["scheduled"]}"}})',
                    TASK_RUNS_PER_ROUND * (round_ + 1),
                    seconds=60,
                )
                # The executor is another target, scraped on its own beat: without this wait its first sample of a
                # flow's series could already hold both rounds, and the failure-rate alert would read 0 / 0.
                prom.wait_for(
                    f'sum(lanner_executions_ended_total{{namespace="{NS}",flow!="{ids["scheduled"]}"}})',
                    len(flows) * (round_ + 1),
                    seconds=60,
                )
            prom.wait_for(f'sum(lanner_executions_ended_total{{flow="{ids["fails"]}",state="FAILED"}})', ROUNDS)
            prom.wait_for(
                f'sum(lanner_scheduler_fires_total{{flow="{ids["scheduled"]}"}}) > bool 0', 1.0
            )  # bool: 1 once it fired, however often
            time.sleep(2)  # a few more scrapes of the last values
            yield Scenario(cluster, prom, ids, since)
        finally:
            cluster.stop(grace=10)  # gracefully: the worker pool removes its metrics folder
            cluster.db.dispose()


def test_exact_counts_of_the_flows_run(scenario: Scenario):
    prom, ids = scenario.prom, scenario.ids
    assert prom.value(f'sum(lanner_executions_ended_total{{flow="{ids["fails"]}",state="FAILED"}})') == ROUNDS
    assert prom.value(f'sum(lanner_executions_ended_total{{flow="{ids["ok"]}",state="SUCCESS"}})') == ROUNDS
    assert prom.value(f'sum(lanner_executions_ended_total{{flow="{ids["ok"]}",state="FAILED"}})') == 0
    assert prom.value(f'sum(lanner_executions_started_total{{flow="{ids["retry"]}"}})') == ROUNDS
    # maxAttempts 3: two retries per execution, three failed attempts
    assert prom.value(f'sum(lanner_task_run_retries_total{{flow="{ids["retry"]}"}})') == 2 * ROUNDS
    assert prom.value(f'sum(lanner_task_runs_ended_total{{flow="{ids["retry"]}",state="FAILED"}})') == 3 * ROUNDS
    assert prom.value(f'sum(lanner_task_metric_counter_total{{flow="{ids["rows"]}",metric="rows"}})') == 5 * ROUNDS
    assert prom.value(f'sum(lanner_task_run_duration_seconds_count{{flow="{ids["ok"]}",task_type="log"}})') == ROUNDS
    assert prom.value("max(lanner_workers_alive)") == 2
    assert (
        prom.value('sum(lanner_api_requests_total{route="/api/v1/executions/{execution_id}",status="404"})') == ROUNDS
    )
    processes = {
        r["metric"]["process"]: float(r["value"][1]) for r in prom.query("count by (process) (lanner_process_info)")
    }
    assert processes == {"api": 1, "executor": 1, "worker": 3, "scheduler": 1}  # the pool's supervisor and two workers
    # no id ever in a label: an execution's id is nowhere among the label values
    execution_ids = {e.id for e in _all_executions(scenario)}
    labels = {v for r in prom.query('{__name__=~"lanner_.+"}') for v in r["metric"].values()}
    assert execution_ids and not (execution_ids & labels)


def _all_executions(scenario: Scenario) -> list[Execution]:
    with Session(scenario.cluster.db) as session:
        return list(session.exec(select(Execution)))


def test_every_dashboard_query_returns_series(scenario: Scenario):
    empty = [
        f"{title}: {expr}"
        for title, expr in dashboard_queries()
        if not scenario.prom.query(expr) and title not in MAY_BE_EMPTY
    ]
    assert empty == []
    by_state = {
        r["metric"]["state"]
        for r in scenario.prom.query('sum by (state) (increase(lanner_executions_ended_total{namespace=~".*"}[10m]))')
    }
    assert {"SUCCESS", "FAILED"} <= by_state
    failing = {
        r["metric"]["task"]
        for title, expr in dashboard_queries()
        if title == "Top failing tasks"
        for r in scenario.prom.query(expr)
        if float(r["value"][1]) > 0
    }
    assert failing == {"boom", "flaky"}


def test_every_alert_reads_series_that_exist_and_fires_only_on_failing_flows(scenario: Scenario):
    prom, ids = scenario.prom, scenario.ids
    rules = alert_rules()
    assert set(rules) == {
        "LannerExecutionFailureRateHigh", "LannerQueueStuck", "LannerNoWorkerAlive", "LannerSchedulerLate",
        "LannerSchedulerStalled", "LannerApiErrors",
    }  # fmt: skip
    for name, expr in rules.items():
        for metric in metric_names(expr):
            assert prom.query(f'count({{__name__=~"{metric}(_bucket|_sum|_count)?"}})'), f"{name}: no {metric}"
    expected, patience = {ids["fails"], ids["retry"]}, time.monotonic() + 30  # a loaded machine scrapes late
    while (firing := {r["metric"]["flow"] for r in prom.query(rules["LannerExecutionFailureRateHigh"])}) != expected:
        if time.monotonic() > patience:
            break
        time.sleep(1)
    assert firing == expected
    for quiet in ("LannerQueueStuck", "LannerNoWorkerAlive", "LannerSchedulerLate", "LannerSchedulerStalled"):
        assert prom.query(rules[quiet]) == [], quiet
    assert prom.query(rules["LannerApiErrors"]) == []


@pytest.mark.skipif(not os.environ.get("LANNER_SCREENSHOTS"), reason="LANNER_SCREENSHOTS=1 renders docs/monitoring.png")
def test_render_the_dashboard_for_the_readme(scenario: Scenario):
    chromium = os.environ.get("LANNER_TEST_CHROMIUM", "/usr/bin/chromium")
    render_dashboard(scenario.prom, scenario.since, ROOT / "docs" / "monitoring.png", chromium)
    assert (ROOT / "docs" / "monitoring.png").stat().st_size > 10_000


def test_no_worker_alive_fires_once_the_workers_stop(scenario: Scenario):
    """Last in this module: it stops the worker pool."""
    worker = scenario.cluster.processes.pop("worker")
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(30)
    deadline = time.monotonic() + 30
    rule = alert_rules()["LannerNoWorkerAlive"]
    while not scenario.prom.query(rule):
        assert time.monotonic() < deadline, f"{rule} never fired: {scenario.prom.query('lanner_workers_alive')}"
        time.sleep(0.5)


def test_promtool_checks_the_rules():
    if PROMTOOL is None:
        pytest.skip(MISSING)
    done = subprocess.run([PROMTOOL, "check", "rules", str(MONITORING / "alerts.yml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 6 rules found" in done.stdout
    config = subprocess.run(
        [PROMTOOL, "check", "config", str(MONITORING / "prometheus.yml")], capture_output=True, text=True
    )
    assert config.returncode == 0, config.stdout + config.stderr  # docker compose's scrape jobs, rules beside them
