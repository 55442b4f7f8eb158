"""``error`` in expressions and the execution summary notifications send: from the snapshot, then end to end, an
``errors`` handler posting the summary of a failed flow to a real local webhook."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core.expression_context import context_for, execution_summary
from engine.core.snapshot import ExecutionView, RunView, Snapshot
from engine.core.states import State
from engine.flows.loader import load_flow_or_raise
from tests.support.ids import unique

NOW = dt.datetime(2026, 11, 28, 6, 1, 5, 400_000, tzinfo=dt.UTC)
FLOW = "id: sales\nnamespace: acme\ntasks:\n  - id: group\n    type: sequential\n    tasks:\n      - {id: load, type: log, message: x}\n"


def _snapshot(*runs: RunView) -> Snapshot:
    execution = ExecutionView("ex-1", State.RUNNING, started_at=NOW - dt.timedelta(minutes=1))
    snapshot = Snapshot(load_flow_or_raise(FLOW), execution, {run.id: run for run in runs}, NOW)
    snapshot.seen_secrets.add("tok-secret-9")
    return snapshot


def test_error_names_the_task_that_failed_on_its_own_and_is_none_before():
    assert context_for(_snapshot())["error"] is None
    early = NOW - dt.timedelta(seconds=30)
    snapshot = _snapshot(
        RunView("r0", "extract", State.FAILED, error="first failure", ended_at=early - dt.timedelta(seconds=1)),
        RunView("r1", "group", State.FAILED, kind="executor", error="task 'load' failed", ended_at=NOW),
        RunView("r2", "load", State.FAILED, parent_id="r1", error="duplicate key", ended_at=early),
    )
    assert context_for(snapshot)["error"] == {
        "taskId": "load",
        "message": "duplicate key",
        "runId": "r2",
        "value": None,
    }


def test_summary_from_the_snapshot_is_failed_linked_and_masked():
    snapshot = _snapshot(RunView("r2", "load", State.FAILED, error="bad password tok-secret-9", ended_at=NOW))
    assert execution_summary(snapshot, "https://lanner.acme.com/") == {
        "flow": "acme.sales",
        "namespace": "acme",
        "flowId": "sales",
        "executionId": "ex-1",
        "state": "FAILED",  # still RUNNING while its errors handler runs; it ends FAILED
        "failedTask": "load",
        "error": "bad password ****",
        "startDate": "2026-11-28T06:00:05.400000+00:00",
        "duration": "1m",
        "seconds": 60.0,
        "url": "https://lanner.acme.com/executions/ex-1",
    }
    fine = execution_summary(_snapshot(), "http://localhost:3000")
    assert fine["state"] == "RUNNING" and fine["failedTask"] is None and fine["error"] is None


@pytest.mark.slow
def test_an_errors_handler_posts_the_summary_of_the_failed_flow(cluster_factory, webhook):
    cluster = cluster_factory()
    cluster.env["LANNER_SECRET_HOOK"] = f"{webhook.url}/services/T1/s3cr3t"
    cluster.env["LANNER_SECRET_DB_PASSWORD"] = "tok-db-password"
    cluster.env["LANNER_PUBLIC_URL"] = "https://lanner.acme.test/"
    cluster.start_executor()
    cluster.start_workers(1)
    flow_id = unique("summary")
    execution_id = cluster.run(
        f"id: {flow_id}\nnamespace: test\n"
        "tasks:\n"
        "  - {id: extract, type: log, message: ok}\n"
        "  - {id: load, type: fail, message: \"login refused for {{ secret('DB_PASSWORD') }}\"}\n"
        "errors:\n"
        "  - {id: alert, type: notify.slack, url: \"{{ secret('HOOK') }}\", summary: true,"
        " text: 'Nightly load: {{ error.taskId }} failed'}\n"
        "  - {id: hook, type: notify.webhook, url: \"{{ secret('HOOK') }}\", summary: true}\n"
    )
    assert cluster.wait(execution_id).state == State.FAILED.value
    runs = cluster.runs(execution_id)
    assert runs["alert"].state == State.SUCCESS.value and runs["hook"].state == State.SUCCESS.value
    slack, hook = sorted(webhook.bodies, key=lambda body: "text" not in body)
    url = f"https://lanner.acme.test/executions/{execution_id}"
    lines = slack["text"].split("\n")
    assert lines[:3] == [
        "Nightly load: load failed",
        f":x: *<{url}|FAILED: test.{flow_id}>*",
        "Task `load` failed: login refused for ****",
    ]
    assert lines[3].startswith(f"Execution {execution_id} · ")
    summary = hook["summary"]
    assert summary["flow"] == f"test.{flow_id}" and summary["executionId"] == execution_id
    assert summary["state"] == "FAILED" and summary["failedTask"] == "load"
    assert summary["error"] == "login refused for ****" and summary["url"] == url
    assert 0 < summary["seconds"] < 30
    for request in webhook.requests:  # the secret never leaves masked, the webhook URL is in no log line
        assert b"tok-db-password" not in request["raw"]
    assert not any("s3cr3t" in line.message for line in cluster.logs(execution_id))
