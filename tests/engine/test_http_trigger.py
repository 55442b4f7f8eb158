"""The HTTP polling trigger against a real local HTTP server whose answer changes: no run while the condition does
not hold, one run per distinct answer with onChange, the answer readable as trigger.*; an unreachable URL shows as
the trigger's last error."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from engine.runtime.trigger_health import read_health
from engine.store.tables import Execution
from tests.support.ids import unique
from tests.support.ports import free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


class _Status(BaseHTTPRequestHandler):
    answer: dict = {"status": "busy"}

    def do_GET(self) -> None:
        body = json.dumps(type(self).answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _started(engine, flow_id: str) -> list[Execution]:
    with Session(engine.db) as session:
        statement = select(Execution).where(Execution.flow_id == flow_id).order_by(Execution.created_at)
        return list(session.exec(statement))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_url_starts_the_flow_once_per_ready_answer(cluster_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/export"
    engine = cluster_factory()
    engine.start_executor()
    engine.start_workers(1)
    engine.start("listener", "trigger-listener")
    flow_id, dead_id = unique("export"), unique("dead")
    engine.deploy(
        f"id: {flow_id}\nnamespace: data\n"
        "tasks:\n  - {id: file, type: return, value: '{{ trigger.json.file }}'}\n"
        "triggers:\n"
        f"  - {{id: ready, type: http.trigger, uri: '{url}', interval: 100ms, onChange: true,\n"
        "      condition: \"{{ response.json.status == 'ready' }}\"}\n"
    )
    dead = f"http://127.0.0.1:{free_port()}/nothing"
    engine.deploy(
        f"id: {dead_id}\nnamespace: data\ntasks:\n  - {{id: t, type: log, message: x}}\n"
        f"triggers:\n  - {{id: gone, type: http.trigger, uri: '{dead}', interval: 100ms}}\n"
    )
    key = f"data/{flow_id}/ready"
    wait_until(
        lambda: (h := read_health(engine.redis, [key]).get(key)) and h.connected, 30, "the listener never polled"
    )
    time.sleep(0.5)
    assert _started(engine, flow_id) == [], "no run while the condition does not hold"

    _Status.answer = {"status": "ready", "file": "a.csv"}
    first = wait_until(lambda: _started(engine, flow_id), 10, "a ready answer started nothing")
    time.sleep(0.6)  # six more polls of the same answer
    assert len(_started(engine, flow_id)) == 1, "the same answer started the flow again"
    _Status.answer = {"status": "ready", "file": "b.csv"}
    both = wait_until(
        lambda: (s := _started(engine, flow_id)) and len(s) == 2 and s, 10, "a new answer started nothing"
    )
    assert [engine.wait(e.id).state for e in both] == ["SUCCESS", "SUCCESS"]
    assert [engine.runs(e.id)["file"].outputs["value"] for e in both] == ["a.csv", "b.csv"]
    assert first[0].trigger["code"] == 200 and first[0].trigger["type"] == "http.trigger"

    gone = f"data/{dead_id}/gone"
    health = wait_until(
        lambda: (h := read_health(engine.redis, [gone]).get(gone)) and h.last_error and h, 15, "no error"
    )
    assert not health.connected and dead in health.last_error and "ConnectError" in health.last_error
    server.shutdown()
