"""Metrics without a cluster: bounded label values, on/off, the shared folder of `lanner server`, database and Redis
timing, JSON process logs, and the settings."""

from __future__ import annotations

import contextvars
import datetime as dt
import io
import json
import logging
import os
from dataclasses import replace
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from engine.config import load_settings, read_settings, reset_settings
from engine.core.states import State
from engine.metrics import record, registry, timing
from engine.metrics.exposition import may_scrape, metrics_text
from engine.metrics.labels import OTHER, FlowLabels
from engine.metrics.log_format import JsonFormatter, log_context
from engine.runtime.connection import connect
from engine.store.database import create_database_engine, schema_problem
from tests.support.ids import unique
from tests.support.ports import free_port


@pytest.fixture
def configured():
    """record.configure with changed settings for a test, then the process' own again."""

    def apply(**changes) -> None:
        record.configure(replace(load_settings(), **changes))

    yield apply
    record.configure(load_settings())


def _ended(namespace: str, flow: str, state: str = "SUCCESS") -> float | None:
    return REGISTRY.get_sample_value(
        "lanner_executions_ended_total", {"namespace": namespace, "flow": flow, "state": state}
    )


def _snapshot(namespace: str, flow: str, state: State) -> SimpleNamespace:
    now = dt.datetime.now(dt.UTC)
    execution = SimpleNamespace(state=state, started_at=now - dt.timedelta(seconds=2), created_at=now, ended_at=now)
    return SimpleNamespace(execution=execution, flow=SimpleNamespace(namespace=namespace, id=flow))


def test_label_values_past_a_cap_are_other():
    labels = FlowLabels(namespaces=2, flows=3, tasks=1, task_metrics=1)
    assert labels.flow("a", "f1") == ("a", "f1")
    assert labels.flow("b", "f1") == ("b", "f1")
    assert labels.flow("c", "f1") == (OTHER, OTHER)  # a third namespace
    assert labels.flow("a", "f2") == ("a", "f2")
    assert labels.flow("a", "f3") == ("a", OTHER)  # a fourth (namespace, flow)
    assert labels.flow("a", "f1") == ("a", "f1")  # seen before: kept
    assert labels.task("a", "f1", "t1") == ("a", "f1", "t1")
    assert labels.task("a", "f1", "t2") == ("a", "f1", OTHER)
    assert labels.task("a", "f3", "t1") == ("a", OTHER, OTHER)
    assert (labels.task_metric("rows"), labels.task_metric("bytes")) == ("rows", OTHER)


def test_the_caps_come_from_the_settings_and_bound_what_is_exported(configured):
    configured(metrics_max_namespaces=1, metrics_max_flows=500)
    first, second = unique("ns"), unique("ns")
    record.execution_advanced(State.RUNNING, _snapshot(first, "f", State.SUCCESS))
    record.execution_advanced(State.RUNNING, _snapshot(second, "f", State.FAILED))
    assert _ended(first, "f") == 1
    assert _ended(second, "f", "FAILED") is None
    assert _ended(OTHER, OTHER, "FAILED") >= 1


def test_an_execution_starting_is_counted_once_and_its_usual_ends_exported_at_zero():
    namespace = unique("ns")
    record.execution_advanced(State.CREATED, _snapshot(namespace, "f", State.RUNNING))
    record.execution_advanced(State.RUNNING, _snapshot(namespace, "f", State.RUNNING))  # no change: nothing
    started = REGISTRY.get_sample_value("lanner_executions_started_total", {"namespace": namespace, "flow": "f"})
    assert started == 1
    assert (_ended(namespace, "f", "SUCCESS"), _ended(namespace, "f", "FAILED")) == (0, 0)
    record.execution_advanced(State.RUNNING, _snapshot(namespace, "f", State.FAILED))
    assert _ended(namespace, "f", "FAILED") == 1
    duration = REGISTRY.get_sample_value(
        "lanner_execution_duration_seconds_sum", {"namespace": namespace, "flow": "f", "state": "FAILED"}
    )
    assert duration == pytest.approx(2, abs=0.01)


def test_task_metrics_are_exported_as_counter_sums_and_timer_totals():
    namespace = unique("ns")
    now = dt.datetime.now(dt.UTC)
    run = SimpleNamespace(namespace=namespace, flow_id="f", task_id="load", attempt_count=2, started_at=now,
                          created_at=now - dt.timedelta(seconds=5), next_attempt_at=now - dt.timedelta(seconds=1))  # fmt: skip
    record.attempt_started(run, "shell", "w1")
    reported = [
        {"type": "counter", "name": "rows", "value": 7, "tags": {"table": "sales"}},
        {"type": "timer", "name": "query", "count": 3, "total": 1.5, "min": 0.2, "max": 1.0, "tags": {}},
    ]
    record.attempt_ended(run, "shell", State.SUCCESS, "w1", reported)
    labels = {"namespace": namespace, "flow": "f", "task": "load"}
    assert REGISTRY.get_sample_value("lanner_task_metric_counter_total", {**labels, "metric": "rows"}) == 7
    assert REGISTRY.get_sample_value("lanner_task_metric_timer_seconds_total", {**labels, "metric": "query"}) == 1.5
    assert REGISTRY.get_sample_value("lanner_task_metric_timer_count_total", {**labels, "metric": "query"}) == 3
    retry = {"namespace": namespace, "flow": "f", "task_type": "shell"}
    assert REGISTRY.get_sample_value("lanner_task_run_retries_total", retry) == 1
    wait = REGISTRY.get_sample_value("lanner_task_run_queue_wait_seconds_sum", {"namespace": namespace})
    assert wait == pytest.approx(1, abs=0.01)  # a retry waits from when it was due, not from the run's creation
    assert REGISTRY.get_sample_value("lanner_worker_tasks_running", {"worker": "w1"}) == 0


def test_switched_off_nothing_is_recorded_and_redis_is_not_wrapped(configured):
    configured(metrics=False)
    namespace = unique("ns")
    record.execution_advanced(State.RUNNING, _snapshot(namespace, "f", State.SUCCESS))
    assert _ended(namespace, "f") is None
    assert timing.redis_class().__name__ == "Redis"


def test_processes_sharing_a_folder_are_read_in_one_scrape(configured, tmp_path):
    """What `lanner server` does: each part writes into the run's folder, the API's /metrics reads them all."""
    configured(metrics_dir=tmp_path)
    try:
        namespace = unique("ns")
        child = os.fork()
        if child == 0:  # another process of the run (pid changes: prometheus_client opens its own files)
            try:
                record.execution_advanced(State.RUNNING, _snapshot(namespace, "f", State.FAILED))
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        record.execution_advanced(State.RUNNING, _snapshot(namespace, "f", State.FAILED))
        line = f'lanner_executions_ended_total{{flow="f",namespace="{namespace}",state="FAILED"}} 2.0'
        assert line in metrics_text().decode()
        assert registry.folder() == tmp_path
    finally:
        registry.use_folder(None)
    assert registry.folder() is None
    assert f'namespace="{namespace}"' not in metrics_text().decode()  # back in memory, where none was counted


def test_database_statements_and_redis_commands_are_timed(configured, tmp_path, redis_server):
    configured(metrics=True)  # whatever an earlier test of this process left
    timing.time_database()
    engine = create_database_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    before = REGISTRY.get_sample_value("lanner_database_query_duration_seconds_count", {"operation": "SELECT"}) or 0
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    after = REGISTRY.get_sample_value("lanner_database_query_duration_seconds_count", {"operation": "SELECT"})
    assert after == before + 1
    r = connect(redis_server)
    ping = {"command": "PING"}
    before = REGISTRY.get_sample_value("lanner_redis_command_duration_seconds_count", ping) or 0
    r.ping()
    with r.pipeline() as pipe:
        pipe.ping().ping()
        pipe.execute()
    assert REGISTRY.get_sample_value("lanner_redis_command_duration_seconds_count", ping) == before + 1
    assert REGISTRY.get_sample_value("lanner_redis_command_duration_seconds_count", {"command": "PIPELINE"}) >= 1


def test_readiness_names_a_schema_behind_its_migrations(tmp_path):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert "not at" in schema_problem(engine)
    broken = create_database_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/nothing")
    assert schema_problem(broken).startswith("the database is unreachable")


def test_json_logs_name_the_execution_and_task_run():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("worker"))
    logger = logging.getLogger(unique("lanner.test"))
    logger.addHandler(handler)
    logger.propagate = False

    def log_lines() -> None:  # in a context of its own: a worker's run in this process may have bound another
        with log_context("exec-1", "run-1"):
            logger.warning("slow %s", "task")
        logger.error("outside")

    contextvars.Context().run(log_lines)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "slow task" and inside["level"] == "WARNING" and inside["process"] == "worker"
    assert (inside["execution_id"], inside["task_run_id"]) == ("exec-1", "run-1")
    assert "execution_id" not in outside
    assert dt.datetime.fromisoformat(inside["time"]).tzinfo is not None


def test_settings_of_monitoring():
    settings = read_settings({"LANNER_METRICS": "0", "LANNER_METRICS_PORT": "9100", "LANNER_LOG_FORMAT": "JSON"})
    assert (settings.metrics, settings.metrics_port, settings.log_format) == (False, 9100, "json")
    defaults = read_settings({})
    assert (defaults.metrics, defaults.metrics_port, defaults.metrics_dir) == (True, None, None)
    assert (defaults.metrics_max_namespaces, defaults.metrics_max_flows) == (100, 500)
    with pytest.raises(ValueError, match="LANNER_METRICS_PORT must be a port number"):
        read_settings({"LANNER_METRICS_PORT": "99999"})
    with pytest.raises(ValueError, match="LANNER_LOG_FORMAT must be one of text, json"):
        read_settings({"LANNER_LOG_FORMAT": "xml"})
    with pytest.raises(ValueError, match="LANNER_METRICS_MAX_FLOWS"):
        read_settings({"LANNER_METRICS_MAX_FLOWS": "0"})


def test_trigger_errors_and_sla_breaches_are_counted_by_flow():
    namespace = unique("ns")
    record.trigger_failed(namespace, "f", "flow")
    record.sla_breached(namespace, "f", "cancel")
    labels = {"namespace": namespace, "flow": "f"}
    assert REGISTRY.get_sample_value("lanner_trigger_errors_total", {**labels, "trigger": "flow"}) == 1
    assert REGISTRY.get_sample_value("lanner_sla_breaches_total", {**labels, "behaviour": "cancel"}) == 1


def test_metrics_are_read_from_this_machine_or_with_the_token(monkeypatch):
    """The series name namespaces, flows and tasks: not for whoever reaches the port."""
    try:
        monkeypatch.delenv("LANNER_METRICS_TOKEN", raising=False)
        reset_settings()
        assert may_scrape("127.0.0.1", None) and may_scrape("::1", None)
        assert not any(may_scrape(host, None) for host in ("10.1.2.3", "192.168.0.7", "testclient", None))
        monkeypatch.setenv("LANNER_METRICS_TOKEN", "s3cret")
        reset_settings()
        assert may_scrape("10.1.2.3", "Bearer s3cret")
        assert not may_scrape("127.0.0.1", None)
        assert not may_scrape("127.0.0.1", "Bearer wrong")
        assert not may_scrape("10.1.2.3", "s3cret")
    finally:
        monkeypatch.delenv("LANNER_METRICS_TOKEN", raising=False)
        reset_settings()
