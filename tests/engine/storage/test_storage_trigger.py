"""The storage trigger, run by a real trigger listener, on both backends of internal storage (a folder; a real
moto_server's bucket): files added to a namespace's inbox through the real API, or dropped straight into the
storage as any S3 client would, each start one execution with the file's content; they are then moved aside;
other files, and other namespaces' inboxes, start nothing."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlmodel import Session, select

from engine.storage.address import Address
from engine.store.tables import Execution
from tests.support.ids import unique
from tests.support.ports import free_port, wait_for_http
from tests.support.waiting import wait_until

on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _started(cluster, flow_id: str) -> list[Execution]:
    with Session(cluster.db) as session:
        return list(session.exec(select(Execution).where(Execution.flow_id == flow_id)))


@pytest.fixture(params=["local", "s3"])
def backend(request, cluster_factory):
    """A cluster on the backend, with its storage as the test reads it, a trigger listener and the API."""
    cluster = cluster_factory()
    if request.param == "s3":
        prefix = f"inbox-{uuid.uuid4().hex[:8]}"
        server = request.getfixturevalue("s3_server")
        cluster.env.update(server.env(prefix=prefix))
        storage = server.storage(prefix=prefix)
    else:
        from engine.storage.local import LocalStorage

        storage = LocalStorage(cluster.home / "storage")
    port = free_port()
    api = cluster.start("api", "api", "--port", str(port))
    wait_for_http(f"http://127.0.0.1:{port}/health/ready", api, cluster.home / "api.log", 60, name="lanner api")
    cluster.start("listener", "trigger-listener")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30) as client:
        yield cluster, storage, client


@pytest.mark.slow
@on_sqlite
def test_each_file_added_to_the_inbox_starts_one_execution_with_its_content(backend, tmp_path):
    cluster, storage, api = backend
    flow_id = unique("inbox")
    cluster.deploy(
        f"id: {flow_id}\nnamespace: acme.sales\ntasks:\n  - {{id: t, type: log, message: '{{{{ trigger.name }}}}'}}\n"
        "triggers:\n  - {id: arrived, type: storage.trigger, folder: orders, pattern: '*.csv', interval: 200ms}\n"
    )
    sent = api.post("/namespaces/acme.sales/inbox", files={"file": ("day1.csv", b"id,amount\n1,10\n")},
                    data={"name": "orders/day1.csv"})  # fmt: skip
    assert sent.status_code == 201, sent.text
    assert sent.json()["name"] == "orders/day1.csv" and sent.json()["size"] == 15
    api.post("/namespaces/acme.sales/inbox", files={"file": ("notes.txt", b"no")}, data={"name": "orders/notes.txt"})
    api.post("/namespaces/acme.sales/inbox", files={"file": ("deep.csv", b"x")}, data={"name": "orders/sub/deep.csv"})
    api.post("/namespaces/globex/inbox", files={"file": ("day1.csv", b"theirs")}, data={"name": "orders/g.csv"})
    dropped = tmp_path / "day2.csv"  # as an S3 client (or a copy into the storage folder) leaves it
    dropped.write_text("id,amount\n2,20\n")
    storage.inbox_put("acme.sales", "orders/day2.csv", dropped)

    started = wait_until(lambda: (s := _started(cluster, flow_id)) and len(s) == 2 and s, 30, "no file started it")
    contents = {e.trigger["path"]: storage.read(Address.parse(e.trigger["uri"])).decode() for e in started}
    assert contents == {"orders/day1.csv": "id,amount\n1,10\n", "orders/day2.csv": "id,amount\n2,20\n"}
    assert {e.trigger["name"] for e in started} == {"day1.csv", "day2.csv"}
    assert all(e.trigger["type"] == "storage.trigger" and e.trigger["size"] == 15 for e in started)
    listed = wait_until(
        lambda: (
            (names := {f["name"] for f in api.get("/namespaces/acme.sales/inbox").json()})
            and "orders/day2.csv" not in names
            and names
        ),
        10,
        "the files were not moved aside",
    )
    assert listed == {
        "orders/notes.txt", "orders/sub/deep.csv", "orders/.lanner-done/day1.csv", "orders/.lanner-done/day2.csv"
    }  # fmt: skip
    assert [f["name"] for f in api.get("/namespaces/globex/inbox").json()] == ["orders/g.csv"]
    # The same name again later is a new file: it starts the flow again.
    again = api.post("/namespaces/acme.sales/inbox", files={"file": ("day1.csv", b"id\n3\n")},
                     data={"name": "orders/day1.csv"})  # fmt: skip
    assert again.status_code == 201
    wait_until(lambda: len(_started(cluster, flow_id)) == 3, 30, "the same name again started nothing")
    time.sleep(1)
    assert len(_started(cluster, flow_id)) == 3


@pytest.mark.slow
@on_sqlite
def test_bad_inbox_requests_get_a_clear_4xx(backend):
    _, _, api = backend
    ok = api.post("/namespaces/acme.sales/inbox", files={"file": ("a.csv", b"1")})
    assert ok.status_code == 201 and ok.json()["name"] == "a.csv"
    cases = [
        (api.post("/namespaces/acme.sales/inbox", files={"file": ("a.csv", b"2")}), 409),
        (api.post("/namespaces/acme.sales/inbox", files={"file": ("x", b"2")}, data={"name": "../escape"}), 422),
        (api.post("/namespaces/acme.sales/inbox", files={"file": ("x", b"2")}, data={"name": "a//b"}), 422),
        (api.post("/namespaces/acme.sales/inbox", files={"other": ("x", b"2")}), 422),
        (api.post("/namespaces/acme.sales/inbox", data={"name": "nofile"}), 415),
        (api.post("/namespaces/acme.sales/inbox", content=b"raw", headers={"content-type": "text/csv"}), 415),
        (api.post("/namespaces/Not A Namespace/inbox", files={"file": ("x", b"2")}), 422),
        (api.get("/namespaces/acme.sales/inbox", params={"folder": "../other"}), 422),
        (api.delete("/namespaces/acme.sales/inbox/missing.csv"), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.json()["message"]
    assert api.delete("/namespaces/acme.sales/inbox/a.csv").status_code == 204
    assert api.get("/namespaces/acme.sales/inbox").json() == []


def test_a_storage_trigger_refuses_a_folder_outside_the_inbox():
    from engine.flows.loader import load_flow

    result = load_flow(
        "id: f\nnamespace: acme\ntasks:\n  - {id: t, type: log, message: x}\n"
        "triggers:\n  - {id: a, type: storage.trigger, folder: ../globex}\n"
    )
    assert not result.ok
    assert [(p.line, p.path) for p in result.problems] == [(6, "triggers[0].folder")], result.problems
    assert "must be a folder inside the namespace's inbox" in result.problems[0].message
