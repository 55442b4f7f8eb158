"""An execution's files are deleted with it (after its rows), through the real API; a storage that fails then
is logged and the deletion still succeeds (204, never a 500)."""

from __future__ import annotations

import time

import httpx

from tests.support.ports import free_port

FLOW = """\
id: keep
namespace: acme
tasks:
  - id: write
    type: shell
    commands: ["echo {{ execution.id }} > a.txt"]
    outputFiles: [a.txt]
"""
LOG_ONLY = "id: quiet\nnamespace: acme\ntasks:\n  - {id: hi, type: log, message: hi}\n"


def _api(cluster) -> httpx.Client:
    port = free_port()
    cluster.start("api", "api", "--port", str(port))
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60)
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.get("/namespaces").status_code == 200:
                return client
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError((cluster.home / "api.log").read_text())
        time.sleep(0.1)


def test_deleting_an_execution_deletes_its_files_and_only_its_files(api):
    cluster = api.cluster
    gone, kept = cluster.run(FLOW), cluster.run(FLOW)
    for execution_id in (gone, kept):
        assert cluster.wait(execution_id).state == "SUCCESS"
    folder = cluster.home / "storage" / "acme" / "keep"
    assert (folder / gone / "write" / "1" / "a.txt").read_text().strip() == gone
    assert api.delete(f"/executions/{gone}").status_code == 204
    assert not (folder / gone).exists()
    assert (folder / kept / "write" / "1" / "a.txt").read_text().strip() == kept


def test_a_storage_that_fails_is_logged_and_the_execution_still_deleted(cluster_factory):
    cluster = cluster_factory()
    # An object store that does not answer: the API cannot delete files there.
    cluster.env.update(
        {
            "LANNER_STORAGE_URL": "s3://nowhere/x",
            "LANNER_STORAGE_ENDPOINT": f"http://127.0.0.1:{free_port()}",
            "LANNER_STORAGE_ACCESS_KEY": "k",
            "LANNER_STORAGE_SECRET_KEY": "s",
            "LANNER_STORAGE_REGION": "us-east-1",
        }
    )
    cluster.start_executor()
    cluster.start_workers(1)
    execution_id = cluster.run(LOG_ONLY)
    assert cluster.wait(execution_id).state == "SUCCESS"
    api = _api(cluster)
    try:
        assert api.delete(f"/executions/{execution_id}").status_code == 204
        assert api.get(f"/executions/{execution_id}").status_code == 404
    finally:
        api.close()
    log = (cluster.home / "api.log").read_text()
    assert "could not be deleted from storage" in log and "LANNER_STORAGE_ENDPOINT" in log
