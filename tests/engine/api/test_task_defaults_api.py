"""Namespace task defaults over the real API, applied by real workers; flow defaults win over them."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.postgres import postgres_admin

pytestmark = pytest.mark.slow  # a real cluster and API
YAML = {"content-type": "application/x-yaml"}
PASSWORD = "correct horse battery"

STRICT = """\
- type: kv.get
  values:
    errorOnMissing: true
"""

READ = """\
id: read
namespace: acme.sales
tasks:
  - id: get
    type: kv.get
    key: nope
"""

READ_WITH_FLOW_DEFAULT = """\
id: lenient
namespace: acme.sales
taskDefaults:
  - type: kv.
    values:
      errorOnMissing: false
tasks:
  - id: get
    type: kv.get
    key: nope
"""


def _wait(api: httpx.Client, execution_id: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = api.get(f"/executions/{execution_id}", headers=headers).json()
        if body["state"] in ("SUCCESS", "FAILED", "WARNING", "KILLED"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{execution_id} never ended: {body['state']}")


def _run(api: httpx.Client, yaml: str, headers: dict[str, str]) -> dict:
    deployed = api.post("/flows", content=yaml, headers={**YAML, **headers})
    assert deployed.status_code == 200, deployed.text
    flow = deployed.json()
    started = api.post(f"/executions/trigger/{flow['namespace']}/{flow['id']}", json={}, headers=headers)
    assert started.status_code == 201, started.text
    return _wait(api, started.json()["id"], headers)


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
    for name, grant in {"vera": ("acme", "viewer"), "eddy": ("acme.sales", "editor"), "otto": None}.items():
        assert api.post("/users", json={"username": name, "password": PASSWORD}, headers=found["root"]).is_success
        if grant:
            assert api.put(f"/namespaces/{grant[0]}/members/{name}", json={"role": grant[1]}, headers=found["root"])
        found[name] = _bearer(api, name)
    return found


def test_namespace_defaults_apply_in_runs_inherited_and_below_flow_defaults(api, people):
    root = people["root"]
    before = _run(api, READ, root)
    assert before["state"] == "SUCCESS", before  # kv.get of a missing key: null by default
    saved = api.put("/namespaces/acme/task-defaults", json={"source": STRICT}, headers=root)
    assert saved.status_code == 200, saved.text
    assert saved.json()["defaults"] == [{"type": "kv.get", "values": {"errorOnMissing": True}, "forced": False}]
    # inherited by acme.sales: the same flow now fails
    child = api.get("/namespaces/acme.sales/task-defaults", headers=root).json()
    assert child["source"] == "" and child["inherited"] == [{"namespace": "acme", "source": STRICT}]
    after = _run(api, READ, root)
    assert after["state"] == "FAILED", after
    # the flow's own taskDefaults win over the namespace's
    assert _run(api, READ_WITH_FLOW_DEFAULT, root)["state"] == "SUCCESS"
    # a nearer namespace wins over its parent
    lenient = "- type: kv.get\n  values: {errorOnMissing: false}\n"
    assert api.put("/namespaces/acme.sales/task-defaults", json={"source": lenient}, headers=root).is_success
    assert _run(api, READ, root)["state"] == "SUCCESS"
    # emptied: gone
    assert api.put("/namespaces/acme.sales/task-defaults", json={"source": ""}, headers=root).is_success
    assert api.put("/namespaces/acme/task-defaults", json={"source": ""}, headers=root).is_success
    assert _run(api, READ, root)["state"] == "SUCCESS"


def test_bad_defaults_are_422_with_problems_at_their_place(api, people):
    root = people["root"]
    text = "- type: kv.gett\n  values: {errorOnMissing: true}\n- type: kv.\n  values: {colour: red}\n"
    answer = api.put("/namespaces/acme/task-defaults", json={"source": text}, headers=root)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["problems"]
    assert any(p["line"] == 1 and "did you mean 'kv.get'" in p["message"] for p in problems), problems
    not_a_list = api.put("/namespaces/acme/task-defaults", json={"source": "type: kv.get\n"}, headers=root)
    assert not_a_list.status_code == 422 and "a list" in not_a_list.json()["message"]
    assert api.get("/namespaces/acme/task-defaults", headers=root).json()["source"] == ""


def test_who_may_read_and_change_them_follows_the_variables_policy(api, people):
    for name in ("vera", "eddy", "otto", "root"):
        who = people[name]
        variable = api.put("/namespaces/acme.sales/variables/probe", json={"value": 1}, headers=who).status_code
        defaults = api.put("/namespaces/acme.sales/task-defaults", json={"source": STRICT}, headers=who)
        assert defaults.status_code == (200 if variable == 204 else variable), (name, defaults.text)
        read = api.get("/namespaces/acme.sales/variables", headers=who).status_code
        assert api.get("/namespaces/acme.sales/task-defaults", headers=who).status_code == read, name


def test_connection_test_over_the_api(api, people):
    if postgres_admin() is None:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    good = {"type": "postgresql.query", "url": "postgresql://postgres:pw-123456@127.0.0.1:5432/test"}
    answer = api.post("/connections/test", json={"namespace": "acme.sales", "task": good}, headers=people["eddy"])
    assert answer.status_code == 200 and answer.json()["ok"], answer.text
    assert "127.0.0.1:5432/test" in answer.json()["message"] and "pw-123456" not in answer.text
    wrong = {**good, "url": "postgresql://postgres:pw-123456@127.0.0.1:1/test"}
    answer = api.post("/connections/test", json={"namespace": "acme.sales", "task": wrong}, headers=people["eddy"])
    assert answer.status_code == 200 and not answer.json()["ok"], answer.text
    assert "could not connect to" in answer.json()["message"] and "pw-123456" not in answer.text
    # a viewer may not (testing runs a connection with the namespace's secrets)
    denied = api.post("/connections/test", json={"namespace": "acme", "task": good}, headers=people["vera"])
    assert denied.status_code == 403, denied.text
