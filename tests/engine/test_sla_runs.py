"""Flow SLAs for real: executor and worker processes on Redis and SQLite / PostgreSQL, the API over HTTP, and a flow
started by a breach sending its notification to a real HTTP server."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlmodel import Session, select

from engine.core.states import State
from engine.store.tables import Execution
from tests.support.ids import unique

pytestmark = pytest.mark.slow
YAML = {"content-type": "application/x-yaml"}


def sla_flow(namespace: str, flow_id: str, sla: str, tasks: str) -> str:
    return f"id: {flow_id}\nnamespace: {namespace}\nsla:\n{sla}tasks:\n{tasks}"


def started_by(cluster, flow_id: str, count: int, timeout: float = 30) -> list[Execution]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(cluster.db) as session:
            found = list(session.exec(select(Execution).where(Execution.flow_id == flow_id)))
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{flow_id}: {len(found)} execution(s), expected {count}")


def test_max_duration_fails_cancels_or_records_while_tasks_run_and_the_api_shows_it(api):
    cluster, namespace = api.cluster, unique("sla")
    sleep = "  - {id: wait, type: sleep, duration: 30s}\n"
    # 3 s: long enough for its task to have started on a worker on a loaded 2-core machine (the breach is counted
    # from the execution's creation, and must stop a running task), well short of the 30 s sleep.
    started = {}
    for behavior in ("fail", "cancel"):
        sla = f"  - {{id: fast, type: MAX_DURATION, duration: PT3S, behavior: {behavior.upper()}, labels: {{sla: missed}}}}\n"  # fmt: skip
        assert api.post("/flows", content=sla_flow(namespace, behavior, sla, sleep), headers=YAML).is_success
        started[behavior] = api.post(f"/executions/trigger/{namespace}/{behavior}", json={}).json()["id"]
    noted = sla_flow(namespace, "none", "  - {id: quick, type: maxDuration, duration: 300ms, behavior: none}\n",
                     "  - {id: wait, type: sleep, duration: 1s}\n")  # fmt: skip
    assert api.post("/flows", content=noted, headers=YAML).is_success
    started["none"] = api.post(f"/executions/trigger/{namespace}/none", json={}).json()["id"]

    failed = cluster.wait(started["fail"], timeout=20)
    assert (
        failed.state == State.FAILED.value and failed.error == "SLA 'fast' breached: the execution ran longer than 3s"
    )
    assert failed.labels == {"sla": "missed"}
    assert cluster.runs(started["fail"])["wait"].state == State.KILLED.value  # its worker was told to stop
    assert failed.ended_at - failed.created_at < dt.timedelta(seconds=10)  # not after the 30 s sleep
    cancelled = cluster.wait(started["cancel"], timeout=20)
    assert cancelled.state == State.KILLED.value and cancelled.error is None
    assert cluster.runs(started["cancel"])["wait"].state == State.KILLED.value
    assert cluster.wait(started["none"], timeout=20).state == State.SUCCESS.value  # only recorded

    shown = api.get(f"/executions/{started['fail']}").json()
    (breach,) = shown["slaBreaches"]
    assert {k: breach[k] for k in ("slaId", "type", "behavior", "labels", "reason")} == {
        "slaId": "fast",
        "type": "maxDuration",
        "behavior": "fail",
        "labels": {"sla": "missed"},
        "reason": "the execution ran longer than 3s",
    }
    assert [b["behavior"] for b in api.get(f"/executions/{started['none']}").json()["slaBreaches"]] == ["none"]
    lines = [line["message"] for line in api.get(f"/logs/{started['cancel']}").json()]
    assert "SLA 'fast' breached (maxDuration, behavior cancel): the execution ran longer than 3s" in lines


def test_assertions_at_the_end_and_a_breach_starts_a_flow_that_notifies(cluster, webhook):
    namespace = unique("sla")
    cluster.deploy(
        f"id: on_breach\nnamespace: {namespace}.alerts\n"
        "inputs:\n  - {id: sla, type: STRING}\n"
        "tasks:\n"
        f"  - id: tell\n    type: notify.webhook\n    url: {webhook.url}/alerts\n"
        "    payload: {sla: '{{ trigger.sla.id }}', behavior: '{{ trigger.sla.behavior }}', "
        "reason: '{{ trigger.sla.reason }}', execution: '{{ trigger.executionId }}', flow: '{{ trigger.flowId }}'}\n"
        "triggers:\n"
        f"  - {{id: breached, type: flow, states: [SLA_BREACHED], conditions: [{{namespace: {namespace}}}],"
        " inputs: {sla: '{{ trigger.sla.id }}'}}\n"
    )
    tasks = "  - {id: count, type: return, value: 3}\n"
    outputs = "outputs:\n  - {id: rows, type: INT, value: '{{ outputs.count.value }}'}\n"
    ids = {}
    for behavior in ("fail", "cancel", "none"):
        sla = f"  - {{id: enough, type: EXECUTION_ASSERTION, assert: '{{{{ execution.outputs.rows > 5 }}}}', behavior: {behavior}}}\n"  # fmt: skip
        ids[behavior] = cluster.run(sla_flow(namespace, f"rows_{behavior}", sla, tasks) + outputs)
    kept = "  - {id: enough, type: assertion, assert: '{{ outputs.count.value == 3 }}'}\n"
    ids["kept"] = cluster.run(sla_flow(namespace, "rows_kept", kept, tasks) + outputs)

    expected = {"fail": "FAILED", "cancel": "KILLED", "none": "SUCCESS", "kept": "SUCCESS"}
    ended = {behavior: cluster.wait(execution_id) for behavior, execution_id in ids.items()}
    assert {behavior: execution.state for behavior, execution in ended.items()} == expected
    assert ended["fail"].error == "SLA 'enough' breached: the assertion {{ execution.outputs.rows > 5 }} is false"
    assert all(execution.outputs == {"rows": 3} for execution in ended.values())
    assert ended["kept"].sla_breaches is None

    alerts = started_by(cluster, "on_breach", 3)  # one per breach, none for the assertion that held
    for alert in alerts:
        assert cluster.wait(alert.id).state == State.SUCCESS.value, cluster.runs(alert.id)
    time.sleep(0.5)
    assert len(started_by(cluster, "on_breach", 3)) == 3
    sent = sorted((body["flow"], body["sla"], body["behavior"], body["execution"]) for body in webhook.bodies)
    assert sent == sorted((f"rows_{b}", "enough", b, ids[b]) for b in ("fail", "cancel", "none"))
    assert all(body["reason"].startswith("the assertion") for body in webhook.bodies)
    assert {alert.inputs["sla"] for alert in alerts} == {"enough"}
