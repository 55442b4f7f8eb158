"""Secrets the executor resolves itself (flow outputs, conditions, switch values, subflow inputs) are masked
in what it stores, as the secrets a worker's task sees are masked in its logs and outputs."""

from __future__ import annotations

import datetime as dt

from engine.core.progress import ExecutionView, Snapshot, StartSubflow, advance
from engine.core.states import State
from engine.flows.loader import load_flow_or_raise
from tests.support.ids import unique

VALUE = "tok-3f9a-secret-value"


def _snapshot(yaml: str) -> Snapshot:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    secrets = {"TOKEN": VALUE}
    return Snapshot(load_flow_or_raise(yaml), ExecutionView("e1", State.CREATED), {}, now, secret=secrets.__getitem__)


def test_the_state_machine_masks_what_it_renders_from_a_secret_but_decides_on_the_real_value():
    snapshot = _snapshot(
        "id: f\nnamespace: acme\ntasks:\n"
        "  - id: pick\n    type: switch\n    value: \"{{ secret('TOKEN') }}\"\n"
        f"    cases:\n      {VALUE}: [{{id: matched, type: subflow, namespace: acme.ops, flowId: g, wait: false,"
        " inputs: {key: \"Bearer {{ secret('TOKEN') }}\"}}]\n"
        "  - id: check\n    type: if\n    condition: \"{{ secret('TOKEN') == 'tok-3f9a-secret-value' }}\"\n"
        "    then: [{id: yes, type: log, message: ok}]\n"
        "outputs:\n  - {id: leaked, value: \"{{ secret('TOKEN') }}\"}\n"
    )
    actions = advance(snapshot)
    runs = {r.task_id: r for r in snapshot.runs.values()}
    assert runs["pick"].outputs["value"] == "****"
    assert runs["pick"].outputs["case"] == VALUE  # names a branch of the source: kept, so it is found again
    (start,) = [a for a in actions if isinstance(a, StartSubflow)]
    assert start.inputs == {"key": "Bearer ****"}
    assert runs["check"].outputs["condition"] is True
    runs["yes"].state = State.SUCCESS
    advance(snapshot)
    assert snapshot.execution.state == State.SUCCESS
    assert snapshot.execution.outputs == {"leaked": "****"}


def test_a_real_flow_output_and_subflow_input_from_a_secret_are_stored_masked(cluster_factory):
    cluster = cluster_factory()
    cluster.env["LANNER_SECRET_TOKEN"] = VALUE
    cluster.start_executor()
    cluster.start_workers(1)
    top = unique("acme")
    cluster.deploy(
        f"id: child\nnamespace: {top}.ops\ninputs:\n  - {{id: key, type: STRING}}\n"
        "tasks:\n  - {id: r, type: return, value: '{{ inputs.key }}'}\n"
    )
    execution_id = cluster.run(
        f"id: {unique('f')}\nnamespace: {top}\ntasks:\n"
        "  - id: check\n    type: if\n    condition: \"{{ secret('TOKEN') | length > 3 }}\"\n"
        f"    then:\n      - {{id: call, type: subflow, namespace: {top}.ops, flowId: child,"
        " inputs: {key: \"Bearer {{ secret('TOKEN') }}\"}}\n"
        "outputs:\n  - {id: token, value: \"{{ secret('TOKEN') }}\"}\n"
        "  - {id: nested, value: {header: \"Bearer {{ secret('TOKEN') }}\"}}\n"
    )
    execution = cluster.wait(execution_id)
    runs = cluster.runs(execution_id)
    assert execution.state == "SUCCESS", {k: r.error for k, r in runs.items()}
    assert execution.outputs == {"token": "****", "nested": {"header": "Bearer ****"}}
    child = cluster.execution(runs["call"].outputs["executionId"])
    assert child.inputs == {"key": "Bearer ****"}
    stored = repr([execution.outputs, child.inputs, child.outputs, [r.outputs for r in runs.values()]])
    assert VALUE not in stored
