"""Who is alive, from the processes' heartbeats: real executor, scheduler and worker processes on one Redis."""

from __future__ import annotations

import os
import signal
import time

import pytest

from engine.core.states import State
from engine.identity.policy import Principal
from engine.runtime import cluster
from engine.runtime.cluster import ProcessKind
from engine.services.cluster import cluster_view
from engine.services.errors import Forbidden
from tests.support.ids import unique
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
ADMIN = Principal("root", is_admin=True)


def _kinds(r) -> dict[int, ProcessKind]:
    return {p.pid: p.kind for p in cluster.alive(r)}


def test_processes_show_while_alive_and_a_killed_worker_leaves_within_its_heartbeat_timeout(cluster_factory):
    engine = cluster_factory()  # heartbeats every 0.3 s, silent for 2 s = gone (tests/support/cluster.py)
    executor, scheduler = engine.start_executor(), engine.start("scheduler", "scheduler")
    workers = engine.start_workers(1)
    wait_until(
        lambda: {executor.pid, scheduler.pid, workers.pid} <= set(_kinds(engine.redis)), 30, "never all three alive"
    )
    kinds = _kinds(engine.redis)
    assert (kinds[executor.pid], kinds[scheduler.pid], kinds[workers.pid]) == ("executor", "scheduler", "worker")
    assert cluster.running(engine.redis, ProcessKind.EXECUTOR)

    # A worker holding a task run shows it, with the run's execution and task, to administrators only.
    execution_id = engine.run(
        f"id: {unique()}\nnamespace: live\ntasks:\n  - {{id: nap, type: shell, commands: [sleep 30]}}\n"
    )
    run = engine.wait_for_run(execution_id, "nap", State.RUNNING)
    view = wait_until(
        lambda: (v := cluster_view(ADMIN, engine.db, engine.redis)) and any(p.task_runs for p in v.processes) and v,
        10,
        "the worker never showed its task run",
    )
    # Only this test's worker: on a shared Redis database an earlier test's process may still be beating.
    (worker,) = [p for p in view.processes if p.pid == workers.pid]
    assert worker.state == "busy" and [(h.task_run_id, h.execution_id, h.task_id) for h in worker.task_runs] == [
        (run.id, execution_id, "nap")
    ]
    assert view.database_error is None and view.redis_error is None and view.queue_depth == 0
    with pytest.raises(Forbidden, match="administrators"):
        cluster_view(Principal("ana", memberships={"live": "admin"}), engine.db, engine.redis)

    os.kill(workers.pid, signal.SIGKILL)  # no chance to say goodbye: only the heartbeat's expiry tells
    killed_at = time.monotonic()
    wait_until(lambda: workers.pid not in _kinds(engine.redis), 10, "the killed worker stayed listed")
    gone_after = time.monotonic() - killed_at
    assert gone_after <= 2 + 0.5, f"listed {gone_after:.1f}s after its death; the heartbeat timeout is 2 s"
    assert {executor.pid, scheduler.pid} <= set(_kinds(engine.redis))

    engine.kill("executor", signal.SIGTERM)
    print("killed", time.monotonic())  # a process stopping cleanly leaves at once
    assert executor.pid not in _kinds(engine.redis) and not cluster.running(engine.redis, ProcessKind.EXECUTOR)
