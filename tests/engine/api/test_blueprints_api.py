"""The blueprints API over a real server: the gallery, one blueprint, and a flow made from one, per role."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow  # a real cluster and API with signed-in people: over 20 s on a shared machine
PASSWORD = "correct horse battery"


def _bearer(api: httpx.Client, username: str) -> dict[str, str]:
    browser = httpx.Client(base_url=api.base_url, timeout=60)
    assert browser.post("/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
    token = browser.post("/tokens", json={"name": "tests"}).json()["token"]
    browser.close()
    return {"Authorization": f"Bearer {token}"}


def test_gallery_and_use_as_each_role(api, tmp_path):
    assert api.post("/auth/setup", json={"username": "root", "password": PASSWORD}).status_code == 201
    api.cookies.clear()
    root = _bearer(api, "root")
    people = {"root": root}
    for name, role in [("vera", "viewer"), ("eddy", "editor")]:
        assert api.post("/users", json={"username": name, "password": PASSWORD}, headers=root).is_success
        assert api.put(f"/namespaces/acme/members/{name}", json={"role": role}, headers=root).is_success
        people[name] = _bearer(api, name)
    assert api.get("/blueprints").status_code == 401  # signed-in people only, like every other route

    listed = api.get("/blueprints", headers=people["vera"]).json()
    assert len(listed) >= 12 and {"id", "title", "summary", "category", "tags", "taskTypes"} <= set(listed[0])
    assert "source" not in listed[0]
    only = api.get("/blueprints", params={"category": "HTTP", "q": "slack"}, headers=people["vera"]).json()
    assert [b["id"] for b in only] == ["webhook_to_slack"]
    one = api.get("/blueprints/hello_world", headers=people["vera"]).json()
    assert one["source"].startswith("# The smallest useful flow") and one["taskTypes"] == ["return", "log"]
    assert api.get("/blueprints/nope", headers=people["vera"]).status_code == 404

    body = {"namespace": "acme.team", "id": "greet"}
    assert api.post("/blueprints/hello_world/use", json=body, headers=people["vera"]).status_code == 403
    made = api.post("/blueprints/hello_world/use", json=body, headers=people["eddy"])
    assert made.status_code == 201, made.text
    assert (made.json()["namespace"], made.json()["id"], made.json()["status"]) == ("acme.team", "greet", "created")
    flow = api.get("/flows/acme.team/greet", headers=people["vera"]).json()
    assert flow["updatedBy"] == "eddy" and "id: greet\nnamespace: acme.team\n" in flow["source"]
    again = api.post("/blueprints/hello_world/use", json=body, headers=people["eddy"])
    assert again.status_code == 409 and "already exists" in again.text
    for bad in ({"namespace": "Acme", "id": "x"}, {"namespace": "acme", "id": "two words"}, {"namespace": "acme"}):
        assert api.post("/blueprints/hello_world/use", json=bad, headers=people["eddy"]).status_code == 422, bad
    assert api.post("/blueprints/nope/use", json=body, headers=people["eddy"]).status_code == 404

    # ``lanner blueprint`` with --server goes through the same routes, as the token's person.
    env = {key: value for key, value in os.environ.items() if not key.startswith("LANNER_")} | {
        "LANNER_HOME": str(tmp_path / "elsewhere"),  # an empty local home: only the server can answer
        "LANNER_SERVER": str(api.base_url).removesuffix("/api/v1"),
        "LANNER_TOKEN": people["eddy"]["Authorization"].removeprefix("Bearer "),
        "PYTHONPATH": str(ROOT),
    }

    def lanner(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "engine", "blueprint", *args]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)

    assert "kv_incremental_load" in lanner("list").stdout
    made = lanner("use", "hello_world", "-n", "acme.team", "--id", "from_cli")
    assert made.returncode == 0 and "created" in made.stdout, made.stderr
    assert api.get("/flows/acme.team/from_cli", headers=people["vera"]).json()["updatedBy"] == "eddy"
    again = lanner("use", "hello_world", "-n", "acme.team", "--id", "from_cli")
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr
