"""The realtime consumer's start of an execution, in this process on a real database and Redis: a message seen
twice starts one execution, and what was stored for the second (a batch's file) is deleted with it."""

from __future__ import annotations

import pytest

from engine.flows.loader import load_flow_or_raise
from engine.messaging.base import Message
from engine.runtime.connection import connect
from engine.runtime.realtime import Consumer, Listening
from engine.services.flow_deploy import deploy_flow
from engine.storage import open_storage
from engine.store.database import session_scope

FLOW = """\
id: batched
namespace: events
tasks:
  - {id: t, type: log, message: x}
triggers:
  - {id: listen, type: redis.realtime, url: "redis://127.0.0.1:1", key: k, maxRecords: 2}
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_batch_seen_twice_starts_once_and_leaves_no_file_behind(database, redis_server, monkeypatch, tmp_path):
    monkeypatch.setenv("LANNER_HOME", str(tmp_path))
    with session_scope(database) as session:
        deploy_flow(session, FLOW)
    trigger = load_flow_or_raise(FLOW).triggers[0]
    consumer = Consumer(database, connect(redis_server), Listening("events", "batched", 1, trigger), "me", "sub")
    batch = [Message(body=b"1", topic="k", message_id="1-0"), Message(body=b"2", topic="k", message_id="2-0")]
    assert consumer._start(batch) == "started"
    assert consumer._start(batch) == "duplicate"
    stored = sorted(p.relative_to(tmp_path / "storage").parts[2] for p in (tmp_path / "storage").rglob("*.*"))
    assert len(stored) == 1, f"a file for an execution that was never created: {stored}"
    assert open_storage().files("events", "batched", stored[0])[0].size > 0
