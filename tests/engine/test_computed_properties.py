"""Properties people compute: numbers, choices, true/false, durations and a subflow's target may be expressions."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core.progress import ExecutionView, Snapshot, StartSubflow, advance
from engine.core.states import State
from engine.flows.loader import load_flow, load_flow_or_raise
from engine.runtime.worker import render_task
from engine.tasks import registry
from engine.tasks.context import TaskFailed

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _flow(tasks: str, *inputs: str):
    declared = "".join(f"  - {{id: {name}, type: STRING}}\n" for name in inputs)
    return load_flow_or_raise(f"id: f\nnamespace: acme.sales\ninputs:\n{declared}tasks:\n{tasks}")


def _advance(flow, inputs: dict | None = None) -> tuple[Snapshot, list]:
    snapshot = Snapshot(flow, ExecutionView("e1", State.CREATED, inputs=inputs or {}), {}, NOW)
    return snapshot, advance(snapshot)


def test_a_subflow_target_may_be_computed():
    flow = _flow(
        "  - {id: call, type: subflow, namespace: '{{ flow.namespace }}.eu', flowId: '{{ inputs.report }}-daily'}\n",
        "report",
    )
    _, actions = _advance(flow, {"report": "stock"})
    (started,) = [a for a in actions if isinstance(a, StartSubflow)]
    assert (started.namespace, started.flow_id) == ("acme.sales.eu", "stock-daily")


def test_a_computed_subflow_target_is_checked_once_rendered():
    flow = _flow("  - {id: call, type: subflow, namespace: '{{ inputs.where }}', flowId: child}\n", "where")
    snapshot, actions = _advance(flow, {"where": "Not A Namespace"})
    assert not any(isinstance(a, StartSubflow) for a in actions)
    (run,) = snapshot.runs.values()
    assert run.state == State.FAILED
    assert "namespace 'Not A Namespace' is not a valid namespace" in run.error
    refused, _ = _advance(flow, {"where": "globex.y"})  # the reach rule applies to the rendered namespace
    (run,) = refused.runs.values()
    assert "may not start a subflow in namespace globex.y" in run.error


def test_a_written_subflow_target_is_still_checked_when_the_flow_is_loaded():
    result = load_flow(
        "id: f\nnamespace: acme\ntasks:\n  - {id: call, type: subflow, namespace: Bad Name, flowId: x}\n"
    )
    assert [p.message for p in result.problems] == [
        "task 'call': 'Bad Name' is not a valid namespace: use lowercase letters, digits, '_' or '-', "
        "in dot-separated parts (e.g. acme.sales)"
    ]


# Each: a task whose non-text properties are expressions, the context, and what they render to.
COMPUTED = {
    "http.request": (
        "{id: t, type: http.request, uri: 'http://x', method: '{{ inputs.method }}',"
        " expectedStatus: ['{{ 200 + 1 }}', 204], followRedirects: '{{ inputs.yes }}'}",
        {"method": "POST", "yes": False},
        {"method": "POST", "expected_status": [201, 204], "follow_redirects": False},
    ),
    "notify.email": (
        "{id: t, type: notify.email, host: h, port: '{{ inputs.port }}', ssl: '{{ inputs.yes }}',"
        " startTls: '{{ not inputs.yes }}', from: a@b.c, to: [x@y.z], subject: s, body: b}",
        {"port": 2525, "yes": True},
        {"port": 2525, "ssl": True, "start_tls": False},
    ),
    "sql.query": (
        "{id: t, type: sql.query, url: 'sqlite://', sql: select 1, fetch: '{{ inputs.how }}', maxRows: '{{ 5 }}'}",
        {"how": "ONE"},
        {"fetch": "ONE", "max_rows": 5},
    ),
    "log": ("{id: t, type: log, message: m, level: '{{ inputs.level }}'}", {"level": "WARN"}, {"level": "WARN"}),
    "sleep": (
        "{id: t, type: sleep, duration: '{{ inputs.wait }}'}",
        {"wait": "1m30s"},
        {"duration": dt.timedelta(seconds=90)},
    ),
}


@pytest.mark.parametrize("type_name", COMPUTED)
def test_non_text_properties_accept_expressions_and_are_checked_once_rendered(type_name: str):
    source, inputs, expected = COMPUTED[type_name]
    (task,) = _flow(f"  - {source}\n", *inputs).tasks
    rendered = render_task(task, {"inputs": inputs})
    assert {name: getattr(rendered, name) for name in expected} == expected
    with pytest.raises(TaskFailed, match="after rendering"):
        render_task(task, {"inputs": {name: {"not": "fitting"} for name in inputs}})


def test_the_schema_the_studio_reads_is_unchanged():
    properties = registry.json_schema("notify.email")["properties"]
    assert properties["port"]["type"] == "integer" and properties["ssl"]["type"] == "boolean"
    assert registry.json_schema("http.request")["properties"]["method"]["$ref"].endswith("HttpMethod")
