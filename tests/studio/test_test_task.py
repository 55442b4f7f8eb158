"""Test one task (n8n's "execute step", Kestra's Playground): the selected task runs alone, with the other tasks'
outputs pinned (typed, or taken from a previous execution), against a real ``lanner server`` (executor, worker)."""

from __future__ import annotations

import time

import pytest

from tests.support.studio import api, open_flow

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}
TESTER = ("tess", "tess password 123")
FLOW = """\
id: one_task
namespace: studio.tests
inputs:
  - id: who
    type: STRING
    defaults: Ana
tasks:
  - id: fetch
    type: return
    value: real
  - id: shout
    type: return
    value: "{{ inputs.who }} got {{ outputs.fetch.value }}"
  - id: after
    type: fail
    message: must not run in a test
"""


def _ended(client, execution_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = client.get(f"/executions/{execution_id}").json()
        if execution["state"] in ("SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"):
            return execution
        time.sleep(0.2)
    raise AssertionError(f"execution {execution_id} did not end: {execution}")


@pytest.fixture
def flow(admin_api):
    assert admin_api.post("/flows", content=FLOW, headers=YAML).is_success
    return "/flows/studio.tests/one_task/tasks"


def test_one_task_runs_alone_with_pinned_or_previous_outputs_and_stays_out_of_history(admin_api, flow):
    whole = admin_api.post("/executions/trigger/studio.tests/one_task?wait=true", json={}).json()
    assert whole["state"] == "FAILED"  # ``after`` fails: a real run of the flow

    pinned = admin_api.post(f"{flow}/shout/test", json={"outputs": {"fetch": {"value": "pinned"}}, "inputs": {}})
    assert pinned.status_code == 201, pinned.text
    assert pinned.json()["trigger"]["type"] == "test"
    tested = _ended(admin_api, pinned.json()["id"])
    assert tested["state"] == "SUCCESS"  # ``after``, which fails, did not run
    runs = {run["taskId"]: run for run in tested["taskRuns"]}
    assert list(runs) == ["shout"] and runs["shout"]["outputs"] == {"value": "Ana got pinned"}

    taken = admin_api.post(f"{flow}/shout/test", json={"fromExecution": whole["id"], "inputs": {"who": "Bo"}})
    assert taken.status_code == 201, taken.text
    tested_again = _ended(admin_api, taken.json()["id"])
    assert {r["taskId"]: r["outputs"] for r in tested_again["taskRuns"]} == {"shout": {"value": "Bo got real"}}

    # Typed outputs win over the previous execution's, task by task.
    both = admin_api.post(
        f"{flow}/shout/test", json={"fromExecution": whole["id"], "outputs": {"fetch": {"value": "typed"}}}
    )
    assert _ended(admin_api, both.json()["id"])["taskRuns"][0]["outputs"] == {"value": "Ana got typed"}

    listed = admin_api.get("/executions", params={"namespace": "studio.tests", "flowId": "one_task"}).json()
    ids = {e["id"] for e in listed["results"]}
    assert whole["id"] in ids and not ids & {pinned.json()["id"], taken.json()["id"], both.json()["id"]}


def test_bad_requests_get_clear_answers(admin_api, flow):
    missing = admin_api.post(f"{flow}/nope/test", json={})
    assert missing.status_code == 404 and "nope" in missing.json()["message"]
    wrong = admin_api.post(f"{flow}/shout/test", json={"outputs": {"fetch": "not an object"}})
    assert wrong.status_code == 422 and "fetch" in wrong.json()["message"]
    other = admin_api.post("/executions/trigger/tutorial/hello?wait=true", json={})
    assert other.status_code == 201, other.text
    refused = admin_api.post(f"{flow}/shout/test", json={"fromExecution": other.json()["id"]})
    assert refused.status_code == 422 and "not an execution of studio.tests/one_task" in refused.json()["message"]


def test_only_those_who_may_run_the_flow_may_test_its_tasks(studio, admin_api, flow):
    admin_api.post("/users", json={"username": TESTER[0], "password": TESTER[1]})
    assert admin_api.put(f"/namespaces/studio.tests/members/{TESTER[0]}", json={"role": "viewer"}).is_success
    viewer = api(studio, *TESTER)
    refused = viewer.post(f"/api/v1{flow}/shout/test", json={})
    assert refused.status_code == 403
    assert admin_api.put(f"/namespaces/studio.tests/members/{TESTER[0]}", json={"role": "operator"}).is_success
    allowed = viewer.post(f"/api/v1{flow}/shout/test", json={"outputs": {"fetch": {"value": "x"}}})
    assert allowed.status_code == 201, allowed.text


def test_test_task_in_the_editor_with_pinned_upstream_outputs(studio, page):
    open_flow(studio, page, FLOW, "one_task")
    assert page.locator("#test-task-button").count() == 0  # nothing selected yet
    page.locator(".react-flow__node[data-id='shout']").click()
    page.click("#test-task-button")
    page.locator("#test-outputs").wait_for(timeout=10_000)
    page.select_option("#test-source", "")  # no previous execution: the typed outputs alone
    page.fill("#test-outputs", "{not json")
    page.click("#start-test")
    page.locator("#test-error").wait_for(timeout=10_000)
    assert "not valid JSON" in page.locator("#test-error").inner_text()

    page.fill("#test-outputs", '{"fetch": {"value": "from the panel"}}')
    page.fill("#test-inputs", '{"who": "Cy"}')
    page.click("#start-test")
    page.wait_for_function("document.querySelector('#test-state')?.innerText === 'SUCCESS'", timeout=60_000)
    page.locator("#test-task-outputs").wait_for(timeout=10_000)
    assert "Cy got from the panel" in page.locator("#test-task-outputs").inner_text()
    assert page.locator("#test-error").count() == 0
    # On the canvas, the tested task alone shows a state: the others did not run.
    after = page.locator(".react-flow__node[data-id='after']").inner_text()
    assert "FAILED" not in after


def test_the_flow_a_test_runs_is_the_task_alone_and_leaves_the_flow_as_it_was():
    from engine.flows.loader import load_flow_or_raise
    from engine.flows.single_task import pinned_outputs, single_task_flow, tested_task
    from engine.flows.tree import find_task

    flow = load_flow_or_raise(
        "id: nested\nnamespace: t\ntasks:\n  - {id: first, type: log, message: a}\n"
        "  - id: group\n    type: sequential\n    tasks:\n"
        "      - {id: inner, type: return, value: x, dependsOn: []}\n"
        "errors:\n  - {id: on_error, type: log, message: e}\n"
    )
    alone = single_task_flow(flow, "inner")
    assert [t.id for t in alone.tasks] == ["inner"] and alone.errors == [] and alone.tasks[0].depends_on is None
    assert [t.id for t in flow.tasks] == ["first", "group"] and [t.id for t in flow.errors] == ["on_error"]
    # Lookups worked out for the whole flow are not the reduced flow's: it finds its own copy, and only it.
    assert find_task(alone, "inner") is alone.tasks[0] and find_task(flow, "inner") is not alone.tasks[0]
    with pytest.raises(LookupError):
        find_task(alone, "first")
    with pytest.raises(LookupError):
        single_task_flow(flow, "missing")
    trigger = {"type": "test", "task": "inner", "outputs": {"first": {"value": 1}}}
    assert tested_task(trigger) == "inner" and pinned_outputs(trigger) == {"first": {"value": 1}}
    assert tested_task({"type": "api"}) is None and pinned_outputs({"type": "api", "outputs": {"x": {}}}) == {}
