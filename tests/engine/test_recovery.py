"""Crash recovery with real processes: SIGKILLed workers and executors, and a Redis that loses everything."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlmodel import Session, select

from engine.core.states import State
from engine.runtime import events
from engine.runtime.cluster import PREFIX
from engine.runtime.connection import redis_server_binary
from engine.runtime.queue import job_id, task_queue, waiting_in_queue
from engine.store.tables import TaskRunAttempt
from tests.support.ids import unique

pytestmark = pytest.mark.slow
FAST_RECOVERY = {
    "LANNER_SWEEP_INTERVAL": "0.3",
    "LANNER_STALE_AFTER": "1",
    "LANNER_EVENT_CLAIM_IDLE": "1",
    "LANNER_QUEUED_RECOVERY_AFTER": "1",
}


def _attempts(cluster, run_id: str) -> list[TaskRunAttempt]:
    with Session(cluster.db) as session:
        statement = select(TaskRunAttempt).where(TaskRunAttempt.task_run_id == run_id)
        return sorted(session.exec(statement), key=lambda a: a.attempt)


def _kill_worker_running(cluster, execution_id: str, task_id: str) -> float:
    run = cluster.wait_for_run(execution_id, task_id, State.RUNNING)
    (attempt,) = _attempts(cluster, run.id)
    pid = int(attempt.worker.rsplit(":", 1)[1])
    time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    return time.monotonic()


@pytest.mark.parametrize("retries", [True, False], ids=["retried", "failed"])
def test_a_worker_killed_mid_task_is_noticed_and_its_retry_policy_applies(cluster_factory, tmp_path: Path, retries):
    cluster = cluster_factory()
    cluster.env.update(FAST_RECOVERY)
    cluster.start_executor()
    cluster.start_workers(2)
    marker = tmp_path / "first-attempt-ran"
    retry = "    retry: {type: constant, interval: 100ms, maxAttempts: 2}\n" if retries else ""
    execution_id = cluster.run(
        f"id: {unique()}\nnamespace: crash\ntasks:\n  - id: work\n    type: shell\n{retry}"
        f"    commands: ['if [ -f {marker} ]; then echo second; else touch {marker}; sleep 60; fi']\n"
    )
    killed_at = _kill_worker_running(cluster, execution_id, "work")
    execution = cluster.wait(execution_id, timeout=30)
    noticed_after = time.monotonic() - killed_at
    run = cluster.runs(execution_id)["work"]
    attempts = _attempts(cluster, run.id)
    assert "no heartbeat" in attempts[0].error and attempts[0].state == "FAILED"
    assert noticed_after < 2 * 2 + 3  # heartbeat timeout 2 s, twice to be sure it is gone, plus a sweep
    if retries:
        assert execution.state == "SUCCESS" and [a.state for a in attempts] == ["FAILED", "SUCCESS"]
    else:
        assert execution.state == "FAILED" and len(attempts) == 1


def test_an_executor_killed_again_and_again_loses_no_execution(cluster_factory):
    cluster = cluster_factory()
    cluster.env.update(FAST_RECOVERY)
    cluster.start_workers(2)
    steps = "".join(
        f"  - {{id: s{i}, type: return, value: '{{{{ outputs.s{i - 1}.value + 1 }}}}'}}\n" for i in range(1, 40)
    )
    execution_ids = [
        cluster.run(f"id: {unique()}\nnamespace: crash\ntasks:\n  - {{id: s0, type: return, value: 0}}\n{steps}")
        for _ in range(3)
    ]
    for round_number in range(4):
        cluster.start_executor(f"executor{round_number}")
        time.sleep(0.4)
        cluster.kill(f"executor{round_number}")  # SIGKILL, wherever it was
    cluster.start_executor("survivor")
    for execution_id in execution_ids:
        assert cluster.wait(execution_id, timeout=60).state == "SUCCESS"
        runs = cluster.runs(execution_id)
        assert runs["s39"].outputs == {"value": 39} and all(r.attempt_count == 1 for r in runs.values())


def test_a_redis_that_restarts_empty_loses_no_execution(cluster_factory, tmp_path: Path):
    folder = tmp_path / "redis"
    folder.mkdir()
    socket_path = folder / "r.sock"

    def start_redis() -> subprocess.Popen:
        process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        return process

    redis_process = start_redis()
    cluster = cluster_factory()
    cluster.redis_url = f"unix://{socket_path}?db=0"
    cluster.env.update(FAST_RECOVERY, LANNER_REDIS_URL=cluster.redis_url)
    from engine.runtime.connection import connect
    from engine.services import commands

    cluster.redis = connect(cluster.redis_url)
    cluster.conn = commands.Connections(cluster.db, cluster.redis)
    try:
        cluster.start_executor()
        cluster.start_workers(2)
        execution_id = cluster.run(
            f"id: {unique()}\nnamespace: crash\ntasks:\n"
            "  - {id: nap, type: sleep, duration: 2s}\n"
            "  - id: fan\n    type: parallel\n    tasks:\n"
            + "".join(f"      - {{id: p{i}, type: sleep, duration: 300ms}}\n" for i in range(6))
            + "  - {id: end, type: return, value: done}\n"
        )
        cluster.wait_for_run(execution_id, "nap", State.RUNNING)
        redis_process.kill()  # everything in Redis is gone: queue, events, heartbeats, timers
        redis_process.wait()
        time.sleep(1.0)
        redis_process = start_redis()
        execution = cluster.wait(execution_id, timeout=60)
        assert execution.state == "SUCCESS", {k: (r.state, r.error) for k, r in cluster.runs(execution_id).items()}
        assert cluster.runs(execution_id)["end"].outputs == {"value": "done"}
    finally:
        cluster.stop()
        redis_process.kill()


def _wait_for_key(cluster, key: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cluster.redis.exists(key):
        assert time.monotonic() < deadline, f"{key} never appeared"
        time.sleep(0.05)


def _wait_for_file(path: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().endswith("\n"):
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


@pytest.mark.parametrize("leftover", ["intermediate", "started", "failed"])
def test_a_job_taken_by_a_worker_that_died_before_claiming_its_run_is_sent_again(
    cluster_factory, tmp_path: Path, leftover: str
):
    """A worker SIGKILLed after RQ handed it the job and before it claimed the run leaves the job behind in
    RQ (in the intermediate list, started, or failed after RQ's clean-up of abandoned jobs): the run is
    still QUEUED and no worker will ever take the job again unless the executor sends it anew."""
    cluster = cluster_factory()
    paused = tmp_path / "paused-worker"
    cluster.env.update(FAST_RECOVERY, LANNER_TEST_PAUSE_BEFORE_CLAIM=str(paused))
    cluster.start_executor()
    execution_id = cluster.run(f"id: {unique()}\nnamespace: crash\ntasks:\n  - {{id: work, type: return, value: 42}}\n")
    run = cluster.wait_for_run(execution_id, "work", State.QUEUED)
    job = job_id(run.id, 1)
    queue = task_queue(cluster.redis)
    if leftover == "intermediate":  # a worker that dies right after RQ moved the job to its intermediate list
        assert Queue.dequeue_any([queue], 10, connection=cluster.redis)[0].id == job
    else:
        cluster.start_workers(1)
        _wait_for_file(paused)  # the worker holds the job, as started, and has not claimed the run
        cluster.kill("worker")
        if leftover == "failed":  # what RQ's maintenance does, later, with a job whose worker is gone
            StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 10 * 24 * 3600)
    cluster.kill("executor")  # what RQ holds now is left as it is until the executor sweeps
    where = {
        "intermediate": job.encode() in cluster.redis.lrange(queue.intermediate_queue_key, 0, -1),
        "started": Job.fetch(job, connection=cluster.redis).get_status() == "started",
        "failed": job in FailedJobRegistry(queue=queue).get_job_ids(),
    }
    assert where[leftover] and cluster.runs(execution_id)["work"].state == State.QUEUED

    del cluster.env["LANNER_TEST_PAUSE_BEFORE_CLAIM"]
    executor = cluster.start_executor("executor2")
    _wait_for_key(cluster, f"{PREFIX}{events.consumer_name('executor').rsplit(':', 1)[0]}:{executor.pid}")
    alive_at = time.monotonic()
    while (
        cluster.runs(execution_id)["work"].state == State.QUEUED
        and not waiting_in_queue(cluster.redis, [(run.id, 1, None)])[0]
    ):
        assert time.monotonic() - alive_at < 1 + 4, "the job was not sent again"  # recovery after 1 s, sweeps 0.3 s
        time.sleep(0.05)
    cluster.start_workers(2, name="workers")
    assert cluster.wait(execution_id, timeout=30).state == "SUCCESS"
    work = cluster.runs(execution_id)["work"]
    assert work.outputs == {"value": 42} and work.attempt_count == 1
    assert [a.state for a in _attempts(cluster, work.id)] == ["SUCCESS"]
