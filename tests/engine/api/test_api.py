"""The REST API over real HTTP, with a real engine behind it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
YAML = {"content-type": "application/x-yaml"}
HELLO = (ROOT / "examples" / "hello.yml").read_text()


def test_flows_create_read_revisions_diff_delete(api):
    created = api.post("/flows", content=HELLO, headers=YAML)
    assert created.status_code == 200 and created.json()["status"] == "created"
    assert api.post("/flows", content=HELLO, headers=YAML).json()["status"] == "unchanged"
    changed = HELLO.replace("defaults: world", "defaults: API")
    assert api.put("/flows/tutorial/hello", content=changed, headers=YAML).json()["revision"] == 2
    assert api.get("/flows/tutorial/hello", headers={"accept": "application/x-yaml"}).text == changed
    assert api.get("/flows/tutorial/hello").json()["source"] == changed
    assert api.get("/flows/tutorial/hello/revisions/1").text == HELLO
    assert [r["revision"] for r in api.get("/flows/tutorial/hello/revisions").json()] == [1, 2]
    diff = api.get("/flows/tutorial/hello/diff", params={"from": 1, "to": 2}).text
    assert "-    defaults: world" in diff and "+    defaults: API" in diff
    graph = api.get("/flows/tutorial/hello/graph").json()
    assert {n["id"] for n in graph["nodes"]} == {"greet", "greeting"}
    mismatch = api.put("/flows/other/hello", content=changed, headers=YAML)
    assert mismatch.status_code == 409
    assert api.delete("/flows/tutorial/hello").status_code == 204
    assert api.get("/flows/tutorial/hello").status_code == 404


def test_search_flows_by_namespace_text_and_label(api):
    for path in (ROOT / "examples").rglob("*.yml"):
        api.post("/flows", content=path.read_text(), headers=YAML)
    page = api.get("/flows", params={"namespace": "acme", "size": 2}).json()
    assert page["total"] == 5 and len(page["results"]) == 2
    sales = ["daily_sales", "daily_sales_pandas"]
    assert [f["id"] for f in api.get("/flows", params={"q": "sales"}).json()["results"]] == sales
    assert [f["id"] for f in api.get("/flows", params={"label": "team:data"}).json()["results"]] == sales
    assert api.get("/flows", params={"label": "nocolon"}).status_code == 400


def test_validate_returns_the_cli_problems(api):
    text = (ROOT / "tests" / "fixtures" / "invalid" / "07_unknown_task_type.yml").read_text()
    body = api.post("/flows/validate", content=text, headers=YAML).json()
    assert body["valid"] is False
    assert (body["problems"][0]["line"], body["problems"][0]["column"]) == (6, 11)
    refused = api.post("/flows", content=text, headers=YAML)
    assert refused.status_code == 422 and refused.json()["problems"][0]["line"] == 6


def test_execution_wait_outputs_search_and_logs(api):
    api.post("/flows", content=HELLO, headers=YAML)
    done = api.post(
        "/executions/trigger/tutorial/hello",
        params={"wait": "true"},
        json={"inputs": {"name": "Ana"}, "labels": {"env": "test"}},
    )
    assert done.status_code == 201
    execution = done.json()
    assert execution["state"] == "SUCCESS" and execution["outputs"] == {"greeting": "Hello, Ana"}
    assert {r["taskId"] for r in execution["taskRuns"]} == {"greet", "greeting"}
    alone = api.get(f"/executions/{execution['id']}", params={"taskRuns": "false"}).json()
    assert alone["taskRuns"] is None and {k: v for k, v in alone.items() if k != "taskRuns"} == {
        k: v for k, v in execution.items() if k != "taskRuns"
    }
    assert api.get("/executions/nope", params={"taskRuns": "false"}).status_code == 404
    assert api.get(f"/executions/{execution['id']}", params={"taskRuns": "maybe"}).status_code == 422
    bad = api.post("/executions/trigger/tutorial/hello", json={"inputs": {"nme": "x"}})
    assert bad.status_code == 422 and "unknown input 'nme'" in bad.json()["message"]
    assert api.post("/executions/trigger/tutorial/nope", json={}).status_code == 404
    found = api.get("/executions", params={"flowId": "hello", "state": "SUCCESS", "label": "env:test"}).json()
    assert found["total"] == 1 and found["results"][0]["id"] == execution["id"]
    assert api.get("/executions", params={"q": execution["id"][:8]}).json()["total"] == 1
    lines = api.get(f"/logs/{execution['id']}").json()
    assert [line["message"] for line in lines] == ["Hello, Ana!"]
    assert "Hello, Ana!" in api.get(f"/logs/{execution['id']}/download").text
    namespaces = {n["name"]: n for n in api.get("/namespaces").json()}
    assert namespaces["tutorial"]["flows"] == 1 and namespaces["tutorial"]["executions"] == 2 - 1
    assert api.delete(f"/executions/{execution['id']}").status_code == 204
    assert api.get(f"/executions/{execution['id']}").status_code == 404
    assert api.delete(f"/executions/{execution['id']}").status_code == 404


def test_file_input_by_multipart(api):
    api.post(
        "/flows",
        content="id: files\nnamespace: api\ninputs:\n  - {id: data, type: FILE}\ntasks:\n"
        "  - {id: show, type: shell, commands: ['cat {{ inputs.data }}']}\n",
        headers=YAML,
    )
    done = api.post("/executions/trigger/api/files", params={"wait": "true"}, files={"data": ("d.csv", b"a,b\n1,2\n")})
    assert done.json()["state"] == "SUCCESS"
    assert [line["message"] for line in api.get(f"/logs/{done.json()['id']}").json()] == ["a,b", "1,2"]


def test_kill_restart_replay_resume(api, tmp_path):
    marker = tmp_path / "ok"
    api.post(
        "/flows",
        content=f"id: ops\nnamespace: api\ntasks:\n  - {{id: a, type: return, value: 1}}\n"
        f"  - {{id: gate, type: shell, commands: ['test -f {marker}']}}\n"
        "  - {id: wait, type: pause}\n",
        headers=YAML,
    )
    failed = api.post("/executions/trigger/api/ops", params={"wait": "true"}).json()
    assert failed["state"] == "FAILED"
    assert api.post(f"/executions/{failed['id']}/kill").status_code == 409
    marker.touch()
    assert api.post(f"/executions/{failed['id']}/restart").status_code == 200
    api.cluster.wait(failed["id"], __import__("engine.core.states", fromlist=["State"]).State.PAUSED)
    assert api.post(f"/executions/{failed['id']}/resume", json={"inputs": {}}).status_code == 200
    assert api.cluster.wait(failed["id"]).state == "SUCCESS"
    replay = api.post(f"/executions/{failed['id']}/replay", params={"taskId": "gate"})
    assert replay.status_code == 201 and replay.json()["trigger"]["fromTask"] == "gate"
    assert api.post(f"/executions/{failed['id']}/replay", params={"taskId": "nope"}).status_code == 404


def _events(text: str) -> list[tuple[str, str, dict]]:
    found = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        found.append((fields["id"], fields["event"], json.loads(fields["data"])))
    return found


def test_follow_with_server_sent_events_resumes_without_loss(api):
    api.post(
        "/flows",
        content="id: talk\nnamespace: api\ntasks:\n  - id: t\n    type: shell\n"
        "    commands: ['for i in $(seq 1 30); do echo line $i; sleep 0.02; done']\n",
        headers=YAML,
    )
    execution_id = api.post("/executions/trigger/api/talk").json()["id"]
    first: list = []
    with api.stream("GET", f"/executions/{execution_id}/follow") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        buffer = ""
        for chunk in response.iter_text():
            buffer += chunk
            first = (
                [e for e in _events(buffer.rsplit("\n\n", 1)[0] + "\n\n") if e[1] == "log"] if "\n\n" in buffer else []
            )
            if len(first) >= 5:
                break
    last_id = first[-1][0]
    rest = _events(api.get(f"/executions/{execution_id}/follow", headers={"Last-Event-ID": last_id}).text)
    messages = [e[2]["message"] for e in first] + [e[2]["message"] for e in rest if e[1] == "log"]
    assert messages == [f"line {i}" for i in range(1, 31)]
    assert rest[-1][1] == "end" and rest[-1][2]["state"] == "SUCCESS"


def test_webhook_starts_only_its_flow_and_hides_what_is_wrong(api):
    api.post("/flows", content=(ROOT / "examples" / "acme" / "webhook.yml").read_text(), headers=YAML)
    api.post(
        "/flows",
        content="id: sync\nnamespace: api\ntasks:\n  - {id: r, type: return, value: '{{ trigger.body.n * 2 }}'}\n"
        "outputs:\n  - {id: doubled, value: '{{ outputs.r.value }}'}\n"
        "triggers:\n  - {id: hook, type: webhook, key: sync-key-123456, wait: true}\n",
        headers=YAML,
    )
    started = api.post(
        "/webhooks/acme.ops/on_order/change-me-0123456789",
        params={"src": "shop"},
        json={"id": 42},
        headers={"X-Shop": "eu"},
    )
    assert started.status_code == 201
    execution = api.cluster.wait(started.json()["id"])
    assert execution.state == "SUCCESS"
    assert execution.trigger["body"] == {"id": 42} and execution.trigger["parameters"] == {"src": "shop"}
    assert execution.trigger["headers"]["x-shop"] == "eu"
    wrong_key = api.post("/webhooks/acme.ops/on_order/not-the-key")
    unknown = api.post("/webhooks/acme.ops/missing/change-me-0123456789")
    assert wrong_key.status_code == unknown.status_code == 404 and wrong_key.json() == unknown.json()
    synced = api.put("/webhooks/api/sync/sync-key-123456", json={"n": 21})
    assert synced.status_code == 200 and synced.json()["outputs"] == {"doubled": 42}


def test_errors_are_json_with_the_right_status(api):
    assert api.post("/flows", content=b"\xff\xfe", headers=YAML).status_code == 400
    assert api.post("/flows", content="a: [", headers=YAML).status_code == 422
    assert api.post(
        "/executions/trigger/tutorial/hello", content="{not json", headers={"content-type": "application/json"}
    ).status_code in (400, 404)
    too_big = api.post("/flows/validate", content="x" * (3 * 1024 * 1024), headers=YAML)
    assert too_big.status_code == 413 and "larger than" in too_big.json()["message"]
    assert api.get("/executions", params={"size": 0}).status_code == 422
    assert api.get("/executions", params={"state": "NOPE"}).status_code == 422
    assert api.get("/openapi.json").json()["info"]["title"] == "Lanner API"
    with pytest.raises(httpx.HTTPStatusError):
        api.get("/nothing-here").raise_for_status()
    time.sleep(0)


def test_pause_holds_a_running_execution_and_triggers_api(api):
    api.post(
        "/flows",
        content="id: held\nnamespace: api\ntasks:\n  - {id: a, type: sleep, duration: 1s}\n"
        "  - {id: b, type: return, value: 2}\n"
        "triggers:\n  - {id: nightly, type: schedule, cron: '0 3 * * *'}\n",
        headers=YAML,
    )
    execution_id = api.post("/executions/trigger/api/held").json()["id"]
    api.cluster.wait_for_run(execution_id, "a", __import__("engine.core.states", fromlist=["State"]).State.RUNNING)
    assert api.post(f"/executions/{execution_id}/pause").status_code == 200
    time.sleep(2)
    paused = api.get(f"/executions/{execution_id}").json()
    assert paused["state"] == "PAUSED" and {r["taskId"] for r in paused["taskRuns"]} == {"a"}
    assert api.post(f"/executions/{execution_id}/resume", json={}).status_code == 200
    assert api.cluster.wait(execution_id).state == "SUCCESS"
    triggers = {t["id"]: t for t in api.get("/triggers", params={"namespace": "api"}).json()}
    assert triggers["nightly"]["enabled"] is True
    assert api.post("/triggers/api/held/nightly/disable").status_code == 204
    assert api.get("/triggers", params={"namespace": "api"}).json()[0]["enabled"] is False
    assert api.post("/triggers/api/held/nope/disable").status_code == 404
    started = api.post(
        "/triggers/api/held/nightly/backfill", json={"start": "2026-01-01T00:00:00Z", "end": "2026-01-03T23:00:00Z"}
    )
    assert started.status_code == 200 and started.json()["total"] == 3
    assert api.post("/triggers/api/held/nightly/backfill/pause").json()["paused"] is True
    assert api.post("/triggers/api/held/nightly/backfill/stop").status_code == 404


def test_the_audit_trail_names_who_did_what_per_namespace(api):
    flow = (
        "id: audited\nnamespace: audit.team\ntasks:\n  - {id: nap, type: sleep, duration: 30s}\n"
        "triggers:\n  - {id: nightly, type: schedule, cron: '0 3 * * *'}\n"
    )
    assert api.post("/flows", content=flow, headers=YAML).status_code in (200, 201)
    other = "id: other\nnamespace: elsewhere\ntasks:\n  - {id: a, type: log, message: m}\n"
    assert api.post("/flows", content=other, headers=YAML).status_code in (200, 201)
    started = api.post("/executions/trigger/audit.team/audited", json={}).json()
    api.cluster.wait(started["id"], __import__("engine.core.states", fromlist=["State"]).State.RUNNING)
    assert api.post(f"/executions/{started['id']}/kill").status_code == 200
    assert api.post("/triggers/audit.team/audited/nightly/disable").status_code in (200, 204)
    events = api.get("/audit", params={"namespace": "audit"}).json()  # the namespace and those below it
    seen = [(e["actor"], e["action"], e["target_kind"]) for e in reversed(events)]
    assert seen[:4] == [
        (__import__("getpass").getuser(), "deployed", "flow"),
        ("api", "ran", "execution"),
        ("api", "killed", "execution"),
        ("api", "disabled", "trigger"),
    ], seen
    assert all(e["namespace"] == "audit.team" for e in events)
    assert events[0]["target_id"] == "audited/nightly" and events[1]["target_id"] == started["id"]
    newest = events[0]["id"]
    older = api.get("/audit", params={"namespace": "audit", "before": newest}).json()
    assert older and all(e["id"] < newest for e in older) and len(older) == len(events) - 1


def test_kill_in_every_state(api):
    """QUEUED (waiting for a concurrency slot) and CREATED end KILLED at once; RUNNING and PAUSED stop their
    tasks first; an ended execution is a 409 that says so, an unknown one a 404."""
    from engine.core.states import State
    from engine.services.execution_start import create_execution
    from engine.store.database import session_scope

    cluster = api.cluster
    api.post(
        "/flows",
        content="id: one\nnamespace: api\nconcurrency: {limit: 1}\ntasks:\n  - {id: nap, type: sleep, duration: 60s}\n",
        headers=YAML,
    )
    running = api.post("/executions/trigger/api/one").json()["id"]
    cluster.wait_for_run(running, "nap", State.RUNNING)
    waiting = api.post("/executions/trigger/api/one").json()["id"]
    cluster.wait(waiting, State.QUEUED)
    killed = api.post(f"/executions/{waiting}/kill")
    assert killed.status_code == 200 and killed.json()["state"] == "KILLED" and killed.json()["endedAt"]
    assert cluster.execution(running).state == "RUNNING" and not cluster.runs(waiting)

    with session_scope(cluster.db) as session:  # created, not yet seen by an executor
        created = create_execution(session, "api", "one").id
    assert api.post(f"/executions/{created}/kill").json()["state"] == "KILLED"

    api.post("/flows", content="id: held\nnamespace: api\ntasks:\n  - {id: wait, type: pause}\n", headers=YAML)
    paused = api.post("/executions/trigger/api/held").json()["id"]
    cluster.wait(paused, State.PAUSED)
    assert api.post(f"/executions/{paused}/kill").status_code == 200
    assert cluster.wait(paused, timeout=10).state == "KILLED"

    assert api.post(f"/executions/{running}/kill").json()["state"] == "KILLING"
    assert cluster.wait(running, timeout=20).state == "KILLED"
    again = api.post(f"/executions/{waiting}/kill")
    assert again.status_code == 409 and again.json()["message"] == f"execution {waiting} has already ended (KILLED)"
    assert api.post("/executions/nope/kill").status_code == 404
