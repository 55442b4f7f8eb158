"""Bounded resources: a task's log lines are written as they come (never all held by the worker), one huge line
is cut, and an output value over LANNER_MAX_OUTPUT_BYTES fails its task without being stored."""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from engine.core.states import State
from engine.store.logs import read_logs
from engine.tasks.context import LOG_LINE_CHARS, LogRecord, RunContext
from tests.support.ids import unique

LIMIT_NOTE = f" … [line truncated: more than {LOG_LINE_CHARS:,} characters]"


def flow(tasks: str) -> str:
    return f"id: {unique('f')}\nnamespace: test\ntasks:\n{tasks}"


@contextmanager
def writes_blocked(database_url: str):
    """Hold the database's write lock (SQLite) or the log table's (PostgreSQL): log lines cannot be written."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(database_url)
    with engine.connect() as connection:
        connection.execute(text("LOCK TABLE log_line IN SHARE MODE"))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def wait_for(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return False


def test_batches_keep_order_and_a_failed_write_keeps_its_lines(tmp_path):
    written: list[list[str]] = []
    fail_next = [True]

    def sink(records: list[LogRecord]) -> None:
        if fail_next[0]:
            fail_next[0] = False
            raise ConnectionError("database away for a moment")
        written.append([r.message for r in records])

    ctx = RunContext("t", "e", tmp_path, tmp_path, lambda: False, sink=sink)
    for i in range(12_001):
        ctx.log("INFO", str(i))
    ctx.flush_logs()
    assert [m for batch in written for m in batch] == [str(i) for i in range(12_001)]  # in order, each once
    assert max(len(batch) for batch in written) <= 10_000 and not ctx.records


@pytest.mark.slow
def test_a_task_that_logs_faster_than_the_database_writes_waits_instead_of_piling_lines_up(
    cluster, database_url, tmp_path
):
    go, done = tmp_path / "go", tmp_path / "done"
    script = (
        "import pathlib, time\n"
        f"while not pathlib.Path({str(go)!r}).exists():\n    time.sleep(0.05)\n"
        "for i in range(30000):\n    print(f'line {i:06d} of a task that logs a lot')\n"
        f"pathlib.Path({str(done)!r}).touch()\n"
        "print('y' * 200000)\n"
    )
    execution_id = cluster.run(flow(f"  - id: chatty\n    type: python\n    script: {script!r}\n"))
    cluster.wait_for_run(execution_id, "chatty", State.RUNNING)
    with writes_blocked(database_url):
        go.touch()
        # The worker holds two batches (10,000 lines) at most, then the script blocks on its full pipe and cannot
        # finish (before: every line piled up in the worker's memory and the script ended at once).
        assert not wait_for(done, 4.0), "the script printed 30,000 lines while none could be written"
    assert wait_for(done, 60.0)
    ended = cluster.wait(execution_id, timeout=120)
    assert ended.state == "SUCCESS", {name: (run.state, run.error) for name, run in cluster.runs(execution_id).items()}
    messages, after = [], 0
    with Session(cluster.db) as session:
        while lines := read_logs(session, execution_id, after=after, limit=20_000):
            messages, after = messages + [line.message for line in lines], lines[-1].id
    assert messages[:-1] == [f"line {i:06d} of a task that logs a lot" for i in range(30_000)]
    assert messages[-1] == "y" * LOG_LINE_CHARS + LIMIT_NOTE


@pytest.mark.slow
def test_an_output_over_the_limit_fails_its_task_and_is_never_stored(cluster_factory):
    cluster = cluster_factory()
    cluster.env["LANNER_MAX_OUTPUT_BYTES"] = "1000"
    cluster.start_executor()
    cluster.start_workers(1)
    big = "x" * 1500
    execution_id = cluster.run(
        flow(
            f"  - {{id: small, type: return, value: {'s' * 900}}}\n"
            f"  - {{id: big, type: return, value: {big}, allowFailure: true}}\n"
            "  - id: sdk\n    type: python\n    allowFailure: true\n    script: |\n"
            "      from engine.sdk import outputs\n      outputs({'fine': 1, 'blob': 'z' * 1500})\n"
            "  - id: huge\n    type: python\n    allowFailure: true\n    script: |\n"
            "      from engine.sdk import outputs\n      outputs({'blob': 'z' * 500000})\n"
            "  - {id: after, type: return, value: '{{ outputs.small.value | length }}'}\n"
        )
    )
    assert cluster.wait(execution_id, timeout=60).state == "WARNING"
    runs = cluster.runs(execution_id)
    hint = "; the limit is 1,000 (LANNER_MAX_OUTPUT_BYTES): store large data in a file (outputFiles)"
    assert runs["small"].state == "SUCCESS" and runs["after"].outputs == {"value": 900}
    assert (runs["big"].state, runs["big"].error) == ("FAILED", f"output 'value' is 1,502 bytes{hint}")
    assert (runs["sdk"].state, runs["sdk"].error) == ("FAILED", f"output 'vars.blob' is 1,502 bytes{hint}")
    assert (runs["huge"].state, runs["huge"].error) == ("FAILED", f"output 'vars.blob' is 500,002 bytes{hint}")
    for name in ("big", "sdk", "huge"):  # what the executor and the API read never holds the value
        assert runs[name].outputs == {}
