"""``GET /api/v1/cluster`` served by ``lanner api`` in front of a real executor and workers: the processes alive
for global administrators, a refusal for everyone else (a namespace's administrator included)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow
PASSWORD = "pass-word-123"


def _bearer(api: httpx.Client, username: str) -> dict[str, str]:
    browser = httpx.Client(base_url=api.base_url, timeout=60)
    assert browser.post("/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
    token = browser.post("/tokens", json={"name": "tests"}).json()["token"]
    browser.close()
    return {"Authorization": f"Bearer {token}"}


def test_the_cluster_is_for_global_administrators(api: httpx.Client):
    assert api.post("/auth/setup", json={"username": "root", "password": PASSWORD}).status_code == 201
    api.cookies.clear()
    root = _bearer(api, "root")
    assert api.post("/users", json={"username": "ada", "password": PASSWORD}, headers=root).is_success
    assert api.put("/namespaces/acme/members/ada", json={"role": "admin"}, headers=root).is_success

    body = api.get("/cluster", headers=root).json()
    kinds = sorted(process["kind"] for process in body["processes"])
    assert kinds == ["api", "executor", "worker", "worker"]  # the cluster fixture's processes and this API
    pids = {process["pid"] for process in body["processes"]}
    assert {api.cluster.processes["executor"].pid, api.cluster.processes["api"].pid} <= pids
    assert body["database_error"] is None and body["redis_error"] is None and body["queue_depth"] == 0
    assert body["heartbeat_timeout"] == 2  # tests/support/cluster.py's LANNER_HEARTBEAT_TIMEOUT

    refused = api.get("/cluster", headers=_bearer(api, "ada"))
    assert refused.status_code == 403 and "administrators" in refused.text
    assert api.get("/cluster").status_code == 401  # nobody signed in
