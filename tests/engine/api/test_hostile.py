"""Hostile input to the real API application (in this process, on SQLite and PostgreSQL, a real Redis): every
answer is a quick 4xx with a message, never a 500, a hang or a file where it does not belong."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from engine.api import create_app, deps
from engine.identity import login_limit, users
from engine.runtime.connection import connect
from engine.services.flow_deploy import deploy_flow
from engine.store.database import session_scope
from tests.support.ports import free_port

YAML = {"content-type": "application/x-yaml"}
JSON = {"content-type": "application/json"}
PASSWORD = "correct horse battery"
BOMB = "a0: &a0 lol\n" + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 8))
UPLOAD = """\
id: upload
namespace: files
inputs:
  - id: data
    type: FILE
  - id: count
    type: INT
tasks:
  - id: say
    type: log
    message: "{{ inputs.count }}"
"""


@pytest.fixture
def app(tmp_path: Path, database_url: str, redis_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """The application ``lanner api`` serves, on this test's database and a flushed Redis."""
    monkeypatch.setenv("LANNER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LANNER_DATABASE_URL", database_url)
    monkeypatch.setenv("LANNER_REDIS_URL", redis_server)
    connect(redis_server).flushdb()
    deps.connections.cache_clear()
    yield create_app()
    deps.connections().db.dispose()
    deps.connections.cache_clear()


def _client(app: FastAPI, address: str = "10.0.0.1") -> TestClient:
    return TestClient(app, base_url="http://testserver/api/v1", client=(address, 40000), raise_server_exceptions=False)


def _deploy(text: str) -> None:
    with session_scope(deps.connections().db) as session:
        deploy_flow(session, text)


def test_alias_bomb_deep_and_huge_yaml_are_refused_at_once(app):
    api = _client(app)
    assert len(BOMB) < 500
    assert api.get("/namespaces").status_code == 200  # connections opened, the database migrated
    started = time.monotonic()
    answer = api.post("/flows/validate", content=BOMB, headers=YAML)
    assert time.monotonic() - started < 1
    assert answer.status_code == 422
    problem = answer.json()["problems"][0]
    assert problem["message"] == "YAML aliases expand to more than 10000 values" and problem["line"] > 1
    deployed = api.post("/flows", content=BOMB, headers=YAML)
    assert deployed.status_code == 422 and "aliases expand" in deployed.text
    deep = api.post("/flows/validate", content="a: " + "[" * 500 + "]" * 500, headers=YAML)
    assert deep.status_code == 422 and "nests deeper than 100 levels" in deep.text
    huge = api.post("/flows/validate", content="a: [" + "1, " * 400_000 + "1]", headers=YAML)
    assert huge.status_code == 422 and "larger than 1000000 characters" in huge.text
    many = api.post("/flows/validate", content="a: [" + "1," * 60_000 + "1]", headers=YAML)
    assert many.status_code == 422 and "more than 50000 keys and values" in many.text


@pytest.mark.slow
def test_checking_flows_does_not_stall_other_requests(cluster_factory):
    """A live server: while large flows are checked, other requests are answered (not on the event loop)."""
    cluster = cluster_factory()
    port = free_port()
    cluster.start("api", "api", "--port", str(port))
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60)
    deadline = time.monotonic() + 30
    while True:
        try:
            if api.get("/namespaces").status_code == 200:
                break
        except httpx.TransportError:
            assert time.monotonic() < deadline, (cluster.home / "api.log").read_text()
            time.sleep(0.1)
    # Legal but slow to check: 1,500 tasks of 20 expressions each (every expression is parsed).
    message = " ".join(["{{ inputs.x | upper }}"] * 20)
    big = "id: big\nnamespace: big\ninputs:\n  - {id: x, type: STRING}\ntasks:\n" + "".join(
        f'  - {{id: t{i}, type: log, message: "{message}"}}\n' for i in range(1500)
    )
    answers: list[httpx.Response] = []
    took: list[float] = []

    def send() -> None:
        with httpx.Client(base_url=api.base_url, timeout=60) as other:
            for _ in range(2):
                started = time.monotonic()
                answers.append(other.post("/flows/validate", content=big, headers=YAML))
                took.append(time.monotonic() - started)
            answers.append(other.post("/flows/validate", content=BOMB, headers=YAML))

    checker = threading.Thread(target=send)
    checker.start()
    pings = []
    while checker.is_alive():
        before = time.monotonic()
        assert api.get("/namespaces").status_code == 200
        pings.append(time.monotonic() - before)
        time.sleep(0.02)
    checker.join()
    api.close()
    assert [a.status_code for a in answers] == [200, 200, 422] and answers[0].json()["valid"] is True
    # On the event loop, each ping would wait for the check under way; beside it, pings wait for a share of the
    # CPU (and of the GIL, which pydantic holds for a moment now and then).
    assert min(took) > 0.5 and len(pings) >= 10 and statistics.median(pings) < min(took) / 4, (took, pings)


def test_nul_characters_are_refused_with_a_message(app):
    api = _client(app)
    login = api.post("/auth/login", json={"username": "a\u0000b", "password": "x"})
    assert login.status_code == 400 and "NUL" in login.json()["message"]
    form = api.post("/auth/login", data={"username": "a\u0000b", "password": "x"})
    assert form.status_code == 400 and "NUL" in form.json()["message"]
    multipart = api.post("/auth/login", files={"username": (None, "a\u0000b"), "password": (None, "x")})
    assert multipart.status_code == 400 and "NUL" in multipart.json()["message"]
    for path in ("/executions?q=%00abc", "/flows?q=a%00", "/flows/a%00b/c", "/executions/x%00"):
        answer = api.get(path)
        assert answer.status_code == 400 and "NUL" in answer.json()["message"], path
    _deploy(UPLOAD)
    trigger = api.post("/executions/trigger/files/upload", json={"inputs": {"data": "x\u0000", "count": 1}})
    assert trigger.status_code == 400 and "NUL" in trigger.json()["message"]
    # Text that merely looks like an escape is text: an escaped backslash followed by u0000.
    fine = api.post("/auth/login", json={"username": "a\\u0000b", "password": "x"})
    assert fine.status_code == 401


def test_deeply_nested_json_is_refused_everywhere(app):
    api = _client(app)
    _deploy(UPLOAD)
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/auth/login", "/executions/trigger/files/upload", "/auth/setup", "/namespaces"):
        answer = api.post(path, content=deep, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and "nests deeper than 100 levels" in answer.json()["message"], path
    many = api.post("/executions/trigger/files/upload", content=b"[" + b"[]," * 60_000 + b"[]]", headers=JSON)
    assert many.status_code == 400 and "more than 50000 arrays and objects" in many.json()["message"]
    objects = '{"inputs": ' * 101 + "1" + "}" * 101
    answer = api.post("/executions/trigger/files/upload", content=objects, headers={"content-type": "text/plain"})
    assert answer.status_code == 400
    shallow = api.post("/executions/trigger/files/upload", json={"inputs": {"data": "a", "count": [[[[1]]]]}})
    assert shallow.status_code == 422  # an ordinary invalid input, checked as usual


def test_search_treats_percent_and_underscore_as_characters(app):
    api = _client(app)
    for flow_id in ("under_score", "underxscore", "plain"):
        _deploy(f"id: {flow_id}\nnamespace: lit\ntasks:\n  - id: t\n    type: log\n    message: hi\n")
        assert api.post(f"/executions/trigger/lit/{flow_id}").status_code == 201
    found = lambda q: sorted(e["flowId"] for e in api.get("/executions", params={"q": q}).json()["results"])  # noqa: E731
    assert found("_") == ["under_score"]
    assert found("r_s") == ["under_score"]
    assert found("%") == []
    assert found("") == ["plain", "under_score", "underxscore"]


def _person(name: str, *, admin: bool = False) -> None:
    with session_scope(deps.connections().db) as session:
        users.create_user(session, name, PASSWORD, actor="test", is_admin=admin)


def test_a_stranger_cannot_lock_a_person_out(app, monkeypatch):
    monkeypatch.setattr(login_limit, "MAX_FAILURES", 3)  # fewer slow password checks; the same rule
    monkeypatch.setattr(login_limit, "SLOW_DOWN_AFTER", 3)
    _person("root", admin=True)
    stranger, owner = _client(app, "203.0.113.9"), _client(app, "198.51.100.7")
    for _ in range(login_limit.MAX_FAILURES):
        assert stranger.post("/auth/login", json={"username": "root", "password": "guess"}).status_code == 401
    refused = stranger.post("/auth/login", json={"username": "root", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0  # the guesser waits
    started = time.monotonic()
    signed_in = owner.post("/auth/login", json={"username": "root", "password": PASSWORD})
    assert signed_in.status_code == 200 and signed_in.json()["username"] == "root"
    assert 1 <= time.monotonic() - started < 10  # slowed down while the name is under attack, not refused
    again = _client(app, "198.51.100.7").post("/auth/login", json={"username": "root", "password": PASSWORD})
    assert again.status_code == 200  # success ends the slowdown: at once
    # Forwarded headers are not trusted: the stranger cannot pose as the owner's address.
    spoofed = stranger.post(
        "/auth/login", json={"username": "root", "password": PASSWORD}, headers={"x-forwarded-for": "198.51.100.7"}
    )
    assert spoofed.status_code == 429


def test_one_address_guessing_many_names_waits(app, monkeypatch):
    monkeypatch.setattr(login_limit, "MAX_FAILURES_PER_CLIENT", 4)
    _person("ana")
    guesser = _client(app, "203.0.113.10")
    for number in range(login_limit.MAX_FAILURES_PER_CLIENT):
        guesser.post("/auth/login", json={"username": f"user{number}", "password": "guess"})
    assert guesser.post("/auth/login", json={"username": "ana", "password": PASSWORD}).status_code == 429
    assert (
        _client(app, "192.0.2.1").post("/auth/login", json={"username": "ana", "password": PASSWORD}).status_code == 200
    )


def _files(home: Path) -> list[Path]:
    return sorted(
        p
        for p in home.rglob("*")
        if p.is_file()
        and p.suffix not in (".db", ".lock")
        and "-wal" not in p.name
        and "-shm" not in p.name
        and "-journal" not in p.name
    )


def test_uploads_go_only_where_they_belong_and_only_for_valid_requests(app, tmp_path: Path):
    api = _client(app)
    home = tmp_path / "home"
    files = {"data": ("../../../escape.txt", b"x")}
    for path in (
        "/executions/trigger/%2e%2e/%2e%2e",
        "/executions/trigger/..%2f..%2f/x",
        "/executions/trigger/files/nothere",
    ):
        assert api.post(path, files=files).status_code == 404, path
    _deploy(UPLOAD)
    invalid = api.post("/executions/trigger/files/upload", files=files, data={"count": "not a number"})
    assert invalid.status_code == 422
    assert _files(home) == [] and not list(tmp_path.rglob("escape.txt"))
    accepted = api.post("/executions/trigger/files/upload", files=files, data={"count": "2"})
    assert accepted.status_code == 201
    stored = Path(accepted.json()["inputs"]["data"])
    assert stored.name == "escape.txt" and stored.read_bytes() == b"x"
    assert stored.parent.parent == (home / "uploads" / "files" / "upload").resolve()
    assert _files(home) == [stored]


def test_the_whole_audit_trail_names_who_may_read_it(app):
    _person("root", admin=True)
    _person("vera")
    api = _client(app)
    token = api.post("/auth/login", json={"username": "vera", "password": PASSWORD})
    assert token.status_code == 200
    refused = api.get("/audit")
    assert refused.status_code == 403
    message = refused.json()["message"]
    assert "manage users" not in message and "global administrators" in message and "admin role" in message


def test_a_file_input_takes_only_a_file_uploaded_for_that_flow(app, tmp_path: Path):
    api = _client(app)
    _deploy(UPLOAD)
    _deploy(UPLOAD.replace("id: upload", "id: other"))
    server_file = tmp_path / "server.txt"
    server_file.write_text("not for operators")
    uploaded = api.post("/executions/trigger/files/upload", files={"data": ("d.csv", b"a,b\n")}, data={"count": "1"})
    assert uploaded.status_code == 201  # multipart still works
    stored = Path(uploaded.json()["inputs"]["data"])
    elsewhere = api.post("/executions/trigger/files/other", files={"data": ("o.csv", b"o\n")}, data={"count": "1"})
    other_flows_file = elsewhere.json()["inputs"]["data"]
    refused_values = (
        str(server_file),
        "/etc/passwd",
        "../../../../../../etc/passwd",
        f"{stored.parent}/../../../../../server.txt",  # starts in the flow's uploads, then climbs out
        f"{stored.parent}/../../other/{Path(other_flows_file).parent.name}/o.csv",
        other_flows_file,  # uploaded, but for another flow
        f"{stored.parent}/missing.csv",
    )
    for value in refused_values:
        answer = api.post("/executions/trigger/files/upload", json={"inputs": {"data": value, "count": 1}})
        assert answer.status_code == 422, value
        assert answer.json()["message"] == (
            "input 'data': a FILE input must be uploaded (multipart/form-data); a server path is not accepted"
        )
    text_field = {"data": (None, str(server_file)), "count": (None, "1")}  # multipart, but a text field
    as_form_text = api.post("/executions/trigger/files/upload", files=text_field)
    assert as_form_text.status_code == 422 and "must be uploaded" in as_form_text.json()["message"]
    runs = api.get("/executions", params={"namespace": "files", "flowId": "upload"}).json()
    assert runs["total"] == 1  # only the upload started a run
    again = api.post("/executions/trigger/files/upload", json={"inputs": {"data": str(stored), "count": 2}})
    assert again.status_code == 201  # the flow's own upload, named again (as a replay does)


def test_a_trigger_or_poll_without_a_valid_caller_is_refused_before_its_body_or_names(app):
    """Who calls is settled first, whatever the body or the names hold: a stranger learns nothing else."""
    _deploy(UPLOAD)
    api = _client(app)
    started = api.post("/executions/trigger/files/upload", data={"count": "2"}, files={"data": ("a.txt", b"x")})
    assert started.status_code == 201, started.text
    _person("root", admin=True)  # sign-in is on from now
    for path, body in (
        ("/executions/trigger/files/upload", {"content": b"{not json"}),
        ("/executions/trigger/files/upload", {"json": {"inputs": "not an object"}}),
        ("/executions/trigger/files/nothere", {"json": {}}),
        ("/executions/trigger/%2e%2e/x", {"json": {}}),
        ("/executions/trigger/files/upload", {"files": {"data": ("b.txt", b"y")}, "data": {"count": "3"}}),
    ):
        for headers in ({}, {"Authorization": "Bearer lnr_forged"}):
            answer = api.post(path, **body, headers=headers if "files" in body else {**JSON, **headers})
            assert answer.status_code == 401, (path, headers, answer.text)
    execution_id = started.json()["id"]
    for query in ({"taskRuns": "false"}, {}):
        assert api.get(f"/executions/{execution_id}", params=query).status_code == 401
    assert api.get("/executions/nothere", params={"taskRuns": "false"}).status_code == 401


def test_a_trigger_and_a_poll_take_one_trip_to_the_thread_pool(app, monkeypatch):
    """Who calls and the route's blocking work go to the thread pool together: a dependency, a sync route and the
    check of its answer each took a trip of their own (three per poll), a quarter of a poll's CPU."""
    _deploy(UPLOAD.replace("    type: FILE\n", "    type: STRING\n    defaults: none\n"))
    trips: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function, *args, **kwargs):
        trips.append(getattr(function, "__name__", repr(function)))
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    api = _client(app)
    started = api.post("/executions/trigger/files/upload", json={"inputs": {"count": 2}})
    assert started.status_code == 201, started.text
    assert len(trips) == 1, trips
    for query in ({"taskRuns": "false"}, {}):
        trips.clear()
        answer = api.get(f"/executions/{started.json()['id']}", params=query)
        assert answer.status_code == 200 and answer.json()["state"] == "CREATED"
        assert len(trips) == 1, (query, trips)
