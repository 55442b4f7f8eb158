"""The KV store over the real API and in real runs (executor and workers on Redis), on SQLite and PostgreSQL.

People: the administrator ``root``, ``vera`` (viewer of acme), ``opal`` (operator of acme), ``eddy`` (editor of
acme.sales), ``ada`` (admin of acme) and ``otto`` (no role anywhere).
"""

from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.slow  # a real cluster, API and six signed-in people per test: over 20 s on a shared machine
YAML = {"content-type": "application/x-yaml"}
PASSWORD = "correct horse battery"

COUNTER = """\
id: counter
namespace: acme.sales
tasks:
  - id: put
    type: kv.set
    key: last.run
    value:
      day: "{{ execution.id }}"
      n: 3
    ttl: PT1H
  - id: read
    type: return
    value: "{{ kv('last.run').n + (kv('region') | length) }}"
  - id: fallback
    type: return
    value: "{{ kv('nope', 'default') }}"
  - id: get
    type: kv.get
    key: last.run
  - id: drop
    type: kv.delete
    key: last.run
  - id: after
    type: kv.get
    key: last.run
"""

MISSING = """\
id: missing
namespace: acme.sales
tasks:
  - id: read
    type: return
    value: "{{ kv('nope') }}"
"""

STRICT = """\
id: strict
namespace: acme.sales
tasks:
  - id: get
    type: kv.get
    key: nope
    errorOnMissing: true
"""

ONCE = """\
id: once
namespace: acme.sales
tasks:
  - id: put
    type: kv.set
    key: region
    value: us
    overwrite: false
"""


def _wait(api: httpx.Client, execution_id: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = api.get(f"/executions/{execution_id}", headers=headers).json()
        if body["state"] in ("SUCCESS", "FAILED", "WARNING", "KILLED"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{execution_id} never ended: {body['state']}")


def _bearer(api: httpx.Client, username: str) -> dict[str, str]:
    browser = httpx.Client(base_url=api.base_url, timeout=60)
    assert browser.post("/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
    token = browser.post("/tokens", json={"name": "tests"}).json()["token"]
    browser.close()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def people(api: httpx.Client) -> dict[str, dict[str, str]]:
    assert api.post("/auth/setup", json={"username": "root", "password": PASSWORD}).status_code == 201
    api.cookies.clear()
    found = {"root": _bearer(api, "root")}
    roles = {"vera": ("acme", "viewer"), "opal": ("acme", "operator"), "eddy": ("acme.sales", "editor"),
             "ada": ("acme", "admin"), "otto": None}  # fmt: skip
    for name, grant in roles.items():
        assert api.post("/users", json={"username": name, "password": PASSWORD}, headers=found["root"]).is_success
        if grant:
            namespace, role = grant
            assert api.put(f"/namespaces/{namespace}/members/{name}", json={"role": role}, headers=found["root"])
        found[name] = _bearer(api, name)
    assert api.put("/namespaces/acme/kv/region", json={"value": "eu"}, headers=found["root"]).status_code == 200
    return found


def _run(api: httpx.Client, yaml: str, headers: dict[str, str]) -> dict:
    deployed = api.post("/flows", content=yaml, headers={**YAML, **headers})
    assert deployed.status_code == 200, deployed.text  # the flow checker knows kv()
    flow = deployed.json()
    started = api.post(f"/executions/trigger/{flow['namespace']}/{flow['id']}", json={}, headers=headers)
    assert started.status_code == 201, started.text
    return _wait(api, started.json()["id"], headers)


def test_each_role_reads_or_changes_the_kv_store_as_the_policy_says(api, people):
    own = {"value": {"a": 1}, "ttl": "1h"}
    for name, reads, writes in [
        ("otto", 404, 404),  # an outsider cannot tell the namespace exists
        ("vera", 200, 403),
        ("opal", 200, 403),
        ("eddy", 200, 200),
        ("ada", 200, 200),
        ("root", 200, 200),
    ]:
        who = people[name]
        assert api.get("/namespaces/acme.sales/kv", headers=who).status_code == reads, name
        assert api.get("/namespaces/acme.sales/kv/region", headers=who).status_code == reads, name
        assert api.put(f"/namespaces/acme.sales/kv/by-{name}", json=own, headers=who).status_code == writes, name
        if writes == 200:
            assert api.delete(f"/namespaces/acme.sales/kv/by-{name}", headers=who).status_code == 204, name
        else:
            assert api.delete("/namespaces/acme/kv/region", headers=who).status_code == writes, name
    # eddy edits acme.sales only: acme (where region is set) is not his to change.
    assert api.put("/namespaces/acme/kv/region", json={"value": "us"}, headers=people["eddy"]).status_code == 404
    assert api.get("/namespaces/acme/kv/region", headers=people["vera"]).json()["value"] == "eu"
    trail = api.get("/audit", params={"namespace": "acme"}, headers=people["ada"]).json()
    assert {("eddy", "changed", "by-eddy"), ("eddy", "deleted", "by-eddy")} <= {
        (e["actor"], e["action"], e["target_id"]) for e in trail if e["target_kind"] == "kv"
    }


def test_a_child_lists_its_own_and_inherited_entries_marked(api, people):
    root = people["root"]
    assert api.put("/namespaces/acme.sales/kv/cursor", json={"value": 7}, headers=root).status_code == 200
    listed = api.get("/namespaces/acme.sales/kv", headers=people["vera"]).json()
    assert [(e["key"], e["value"], e["type"], e["origin"], e["own"]) for e in listed] == [
        ("cursor", 7, "number", "acme.sales", True),
        ("region", "eu", "string", "acme", False),
    ]
    assert listed[0]["expiresAt"] is None and listed[0]["updatedBy"] == "root"
    overridden = api.put("/namespaces/acme.sales/kv/region", json={"value": "us", "ttl": "PT1H"}, headers=root)
    assert overridden.json()["own"] is True and overridden.json()["expiresAt"]
    assert api.get("/namespaces/acme.sales/kv/region", headers=root).json()["value"] == "us"
    assert api.get("/namespaces/acme.sales.eu/kv/region", headers=root).json()["origin"] == "acme.sales"
    assert api.delete("/namespaces/acme.sales/kv/region", headers=root).status_code == 204
    assert api.get("/namespaces/acme.sales/kv/region", headers=root).json()["origin"] == "acme"
    # an inherited entry is its namespace's: deleting it from the child finds nothing there
    assert api.delete("/namespaces/acme.sales/kv/region", headers=root).status_code == 404


def test_bad_input_is_a_clear_4xx(api, people):
    root = people["root"]
    cases = [
        ("put", "/namespaces/acme/kv/two%20words", {"value": 1}, 422, "is not a key"),
        ("put", "/namespaces/acme/kv/k", {"value": 1, "ttl": "soon"}, 422, "is not a duration"),
        ("put", "/namespaces/acme/kv/k", {"value": 1, "ttl": "-1h"}, 422, "is not a duration"),
        ("put", "/namespaces/acme/kv/k", {"value": 1, "expiresAt": "2001-01-01T00:00:00Z"}, 422, "already past"),
        ("put", "/namespaces/acme/kv/k", {"value": 1, "expiresAt": "someday"}, 422, ""),
        ("put", "/namespaces/acme/kv/k", {"value": 1, "ttl": "1h", "expiresAt": "2099-01-01T00:00:00Z"}, 422, "both"),
        ("put", "/namespaces/acme/kv/k", {"ttl": "1h"}, 422, ""),  # no value at all
        ("put", "/namespaces/acme/kv/k", {"value": 1, "colour": "red"}, 422, ""),
        ("put", "/namespaces/acme/kv/region", {"value": "x", "overwrite": False}, 409, "already set in acme"),
        ("put", "/namespaces/Not_A_Namespace/kv/k", {"value": 1}, 422, "not a valid namespace"),
        ("get", "/namespaces/acme/kv/nothing", None, 404, "no kv key nothing in acme"),
        ("get", "/namespaces/acme/kv/bad%20key", None, 422, "is not a key"),
        ("delete", "/namespaces/acme/kv/nothing", None, 404, "no kv key nothing in acme"),
    ]
    for method, path, body, status, words in cases:
        answer = api.request(method, path, json=body, headers=root)
        assert answer.status_code == status, (path, body, answer.status_code, answer.text)
        assert words in answer.json()["message"], (path, body, answer.text)
    too_big = api.put("/namespaces/acme/kv/k", json={"value": "x" * (1024 * 1024 + 10)}, headers=root)
    assert too_big.status_code in (413, 422), too_big.text
    assert api.get("/namespaces/acme/kv", headers=root).json()[0]["key"] == "region"  # nothing else was set


def test_kv_tasks_and_the_kv_function_in_a_real_run(api, people):
    editor = people["eddy"]  # an editor deploys and runs: the tasks write acme.sales, the run's own namespace
    ended = _run(api, COUNTER, editor)
    assert ended["state"] == "SUCCESS", ended
    outputs = {run["taskId"]: run["outputs"] for run in ended["taskRuns"]}
    assert outputs["put"]["key"] == "last.run" and outputs["put"]["expiresAt"]
    assert outputs["read"]["value"] in (5, "5")  # n (3) + len("eu") (2): the value kept its JSON type
    assert outputs["fallback"]["value"] == "default"
    assert outputs["get"] == {"value": {"day": ended["id"], "n": 3}, "found": True}
    assert outputs["drop"] == {"deleted": True}
    assert outputs["after"] == {"value": None, "found": False}
    assert api.get("/namespaces/acme.sales/kv/last.run", headers=editor).status_code == 404
    assert api.get("/namespaces/acme/kv/region", headers=people["root"]).json()["value"] == "eu"  # parent untouched

    failed = _run(api, MISSING, editor)
    assert failed["state"] == "FAILED"
    assert "kv key 'nope' is not set in namespace acme.sales or its parents" in failed["taskRuns"][0]["error"]
    strict = _run(api, STRICT, editor)
    assert strict["state"] == "FAILED" and "kv key 'nope' is not set" in strict["taskRuns"][0]["error"]
    # overwrite: false sees only the run's own namespace: acme's region does not stop it, its own second run does
    assert _run(api, ONCE, editor)["state"] == "SUCCESS"
    again = _run(api, ONCE, editor)
    assert again["state"] == "FAILED" and "already set in acme.sales" in again["taskRuns"][0]["error"]
    assert api.get("/namespaces/acme/kv/region", headers=people["root"]).json()["value"] == "eu"
    written = api.get("/namespaces/acme.sales/kv/region", headers=editor).json()
    assert written["value"] == "us" and written["updatedBy"].startswith("execution ")
