"""A log download streams a page at a time: the API never builds the whole file in memory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import Session

from engine.store import executions as store
from engine.store.database import session_scope
from engine.store.logs import write_logs
from engine.tasks.context import LogRecord

pytestmark = pytest.mark.slow
YAML = {"content-type": "application/x-yaml"}
LINES, WIDTH = 20_000, 500  # a 10 MB log


def peak_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


def test_a_large_log_downloads_in_chunks_with_bounded_memory(api):
    api.post(
        "/flows", content="id: big\nnamespace: api\ntasks:\n  - {id: a, type: log, message: first}\n", headers=YAML
    )
    execution_id = api.post("/executions/trigger/api/big", params={"wait": "true"}).json()["id"]
    cluster = api.cluster
    snapshot = SimpleNamespace(flow=SimpleNamespace(namespace="api", id="big"))  # what write_logs reads of one
    with Session(cluster.db) as session:
        run = store.task_runs(session, execution_id)[0]
    now = dt.datetime.now(dt.UTC)
    for start in range(0, LINES, 5_000):
        records = [LogRecord("INFO", f"{i:08d}" + "x" * (WIDTH - 8), now) for i in range(start, start + 5_000)]
        with session_scope(cluster.db) as session:
            write_logs(session, snapshot, run, records)
    pid = cluster.processes["api"].pid
    api.get(f"/logs/{execution_id}/download")  # a small warm-up: the first request loads what any request needs
    before = peak_mb(pid)
    chunks, received = 0, []
    with api.stream("GET", f"/logs/{execution_id}/download") as response:
        assert response.status_code == 200
        assert response.headers["content-disposition"] == f'attachment; filename="{execution_id}.log"'
        assert "content-length" not in response.headers  # streamed, not built first
        for chunk in response.iter_text():
            chunks += 1
            received.append(chunk)
    grown = peak_mb(pid) - before
    lines = "".join(received).splitlines()
    assert len(lines) == LINES + 1 and lines[0].endswith(" INFO  a first")
    assert [line.rsplit(" ", 1)[1][:8] for line in lines[1:]] == [f"{i:08d}" for i in range(LINES)]
    assert chunks > 1
    assert grown < 15, f"the API grew by {grown:.0f} MB to send a {LINES * WIDTH // 1_000_000} MB log"
