"""A worker told to stop (SIGTERM, as Kubernetes does in a rolling update) finishes its task run within its grace
period, or hands it back to another worker: real executor and worker processes, nothing recorded as failed."""

from __future__ import annotations

import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from engine.core.states import State
from engine.runtime.handover import FORCE_AFTER, HANDED_BACK
from engine.store.tables import TaskRunAttempt
from tests.support.ids import unique

pytestmark = pytest.mark.slow
# Tests of signals and processes: the hand-back's writes are tested on both databases by the others.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _attempts(engine, run_id: str) -> list[TaskRunAttempt]:
    with Session(engine.db) as session:
        found = session.exec(select(TaskRunAttempt).where(TaskRunAttempt.task_run_id == run_id))
        return sorted(found, key=lambda a: a.attempt)


def _pid(attempt: TaskRunAttempt) -> int:
    return int(attempt.worker.rsplit(":", 1)[1])


def _start_long_task(engine, seconds: int, grace: float, task: str = "") -> tuple[str, object, object]:
    """A run of a ``seconds``-long task (``task``: another one) held by a first worker, a second one idle beside."""
    engine.env["LANNER_WORKER_GRACE_PERIOD"] = str(grace)
    engine.start_executor()
    first = engine.start_workers(1, name="first")
    retry = "    retry: {type: constant, interval: 100ms, maxAttempts: 3}\n"  # a failure would be retried: none may be
    task = task or f"type: shell\n    commands: ['sleep {seconds}', 'echo done']\n"
    execution_id = engine.run(f"id: {unique()}\nnamespace: rolling\ntasks:\n  - id: long\n{retry}    {task}")
    run = engine.wait_for_run(execution_id, "long", State.RUNNING)
    assert [_pid(a) for a in _attempts(engine, run.id)] == [first.pid]
    second = engine.start_workers(1, name="second")
    return execution_id, first, second


def test_a_worker_told_to_stop_finishes_its_task_within_the_grace_period(cluster_factory):
    engine = cluster_factory()
    execution_id, first, _ = _start_long_task(engine, seconds=3, grace=25)
    time.sleep(0.5)
    os.kill(first.pid, signal.SIGTERM)
    assert engine.wait(execution_id, timeout=30).state == "SUCCESS"
    run = engine.runs(execution_id)["long"]
    assert [(a.state, _pid(a)) for a in _attempts(engine, run.id)] == [("SUCCESS", first.pid)]
    assert run.attempt_count == 1
    first.wait(10)  # and then it stopped, without taking another job


def test_a_task_outliving_the_grace_period_is_handed_back_and_completed_by_another_worker(cluster_factory):
    engine = cluster_factory()
    execution_id, first, second = _start_long_task(engine, seconds=4, grace=1)
    time.sleep(0.5)
    os.kill(first.pid, signal.SIGTERM)
    stopped_at = time.monotonic()
    first.wait(15)  # it gave the run back and left
    assert time.monotonic() - stopped_at < 1 + FORCE_AFTER + 5  # grace, the task's stop, the process' exit
    assert engine.wait(execution_id, timeout=30).state == "SUCCESS"
    run = engine.runs(execution_id)["long"]
    assert [(a.state, _pid(a)) for a in _attempts(engine, run.id)] == [("SUCCESS", second.pid)]
    assert run.attempt_count == 1  # the handed-back attempt counts for nothing
    messages = [line.message for line in engine.logs(execution_id)]
    assert HANDED_BACK in messages and "done" in messages


@SQLITE_ONLY
def test_a_second_sigterm_ends_the_grace_period_at_once(cluster_factory):
    """RQ would stop the task where it stands on a second signal (a cold shutdown, the run lost until its heartbeat
    expires): Lanner hands the run back instead, at once."""
    engine = cluster_factory()
    execution_id, first, second = _start_long_task(engine, seconds=6, grace=60)
    os.kill(first.pid, signal.SIGTERM)
    time.sleep(1.5)  # a second signal within a second is the same stop sent twice (a pool and a terminal)
    assert first.poll() is None  # still finishing its task, as the long grace period allows
    os.kill(first.pid, signal.SIGTERM)
    first.wait(15)
    assert engine.wait(execution_id, timeout=30).state == "SUCCESS"
    run = engine.runs(execution_id)["long"]
    assert [(a.state, _pid(a)) for a in _attempts(engine, run.id)] == [("SUCCESS", second.pid)]
    assert HANDED_BACK in [line.message for line in engine.logs(execution_id)]


class _SlowAnswer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(5)
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def slow_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowAnswer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slow"
    server.shutdown()


@SQLITE_ONLY
def test_a_task_that_does_not_stop_when_asked_is_handed_back_and_its_worker_leaves(cluster_factory, slow_server):
    """An HTTP request waiting for its answer does not look at kill requests: FORCE_AFTER seconds after the grace
    period, the worker hands the run back from another thread and exits at once."""
    engine = cluster_factory()
    request = f"type: http.request\n    uri: {slow_server}\n"
    execution_id, first, second = _start_long_task(engine, seconds=5, grace=1, task=request)
    time.sleep(0.5)
    os.kill(first.pid, signal.SIGTERM)
    stopped_at = time.monotonic()
    assert first.wait(15) == 0
    assert time.monotonic() - stopped_at < 1 + FORCE_AFTER + 3  # well before its request would have been answered
    assert engine.wait(execution_id, timeout=30).state == "SUCCESS"
    run = engine.runs(execution_id)["long"]
    assert [(a.state, _pid(a)) for a in _attempts(engine, run.id)] == [("SUCCESS", second.pid)]
    assert run.attempt_count == 1 and run.outputs["code"] == 200
