"""Worker groups with real processes: ``lanner worker --group gpu`` alone runs the gpu task runs; with no gpu worker
alive the run waits, saying why (its waiting reason, a WARN line, the API), and runs once one starts."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session

from engine.core.states import State
from engine.identity import authz
from engine.services import executions, resources
from engine.store import executions as store
from studio.services.runs import waiting_text
from tests.support.ids import unique

pytestmark = pytest.mark.slow


def _workers(cluster, execution_id: str) -> dict[str, str]:
    """The worker that ran each task's last attempt (``worker:<host>:<pid>``)."""
    with Session(cluster.db) as session:
        runs = {run.id: run.task_id for run in store.task_runs(session, execution_id)}
        return {runs[a.task_run_id]: a.worker for a in store.attempts_of(session, list(runs))}


def _wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"{check.__doc__} did not happen within {timeout}s")


def test_a_gpu_task_waits_visibly_for_a_gpu_worker_then_runs_only_on_it(api):
    cluster = api.cluster  # an executor and two workers without a group
    flow = unique("gpu")
    execution_id = cluster.run(
        f"id: {flow}\nnamespace: lab\ntasks:\n"
        "  - {id: train, type: log, message: training, workerGroup: {key: gpu}}\n"
        "  - {id: report, type: log, message: done}\n"
    )
    run = cluster.wait_for_run(execution_id, "train", State.QUEUED)
    assert run.worker_group == "gpu"

    def warned():
        """a WARN line about the gpu group"""
        return [line for line in cluster.logs(execution_id) if line.level == "WARN" and "'gpu'" in line.message]

    (line,) = _wait_for(warned)
    assert line.task_id == "train" and "no live worker serves worker group 'gpu'" in line.message
    time.sleep(1.0)  # a default worker never takes it
    assert cluster.runs(execution_id)["train"].state == State.QUEUED.value
    body = api.get(f"/executions/{execution_id}").json()
    (train,) = [r for r in body["taskRuns"] if r["taskId"] == "train"]
    assert train["workerGroup"] == "gpu" and "no live worker serves worker group 'gpu'" in train["waiting"]
    shown = waiting_text(executions.with_waiting(cluster.redis, executions.read(cluster.db, execution_id)))
    assert shown.startswith("train: waiting: no live worker serves worker group 'gpu'")  # the studio's notice

    gpu = cluster.start("gpu-worker", "worker", "--group", "gpu")
    assert cluster.wait(execution_id, timeout=60).state == State.SUCCESS.value
    ran_on = _workers(cluster, execution_id)
    assert ran_on["train"].endswith(f":{gpu.pid}")  # the gpu worker's own process
    assert not ran_on["report"].endswith(f":{gpu.pid}")  # a task without a group: a worker without one


def test_flow_and_namespace_groups_and_the_most_specific_wins(api):
    cluster = api.cluster
    saved = api.patch("/namespaces/plant/resources", json={"worker_group": "site-a", "max_running_executions": 5})
    assert saved.status_code == 200, saved.text
    assert saved.json()["worker_group"] == "site-a" and saved.json()["max_running_executions"] == 5
    assert api.get("/namespaces/plant.line/resources").json()["inherited_worker_group"] == "site-a"
    refused = api.patch("/namespaces/plant/resources", json={"max_running_task_runs": 0})
    assert refused.status_code == 422 and "max_running_task_runs" in refused.text
    assert api.patch("/namespaces/plant/resources", json={"cpus": 2}).status_code == 422

    inherited = cluster.run(f"id: {unique('f')}\nnamespace: plant.line\ntasks:\n  - {{id: t, type: log, message: x}}\n")
    own = cluster.run(
        f"id: {unique('f')}\nnamespace: plant.line\nworkerGroup: site-b\ntasks:\n"
        "  - {id: flows, type: log, message: x}\n"
        "  - {id: tasks, type: log, message: x, workerGroup: site-c, dependsOn: []}\n"
    )
    assert cluster.wait_for_run(inherited, "t", State.QUEUED).worker_group == "site-a"
    assert cluster.wait_for_run(own, "flows", State.QUEUED).worker_group == "site-b"
    assert cluster.wait_for_run(own, "tasks", State.QUEUED).worker_group == "site-c"
    resources.set_resources(cluster.db, authz.LOCAL, "plant", {"worker_group": None})
    later = cluster.run(f"id: {unique('f')}\nnamespace: plant.line\ntasks:\n  - {{id: t, type: log, message: x}}\n")
    assert cluster.wait(later).state == State.SUCCESS.value  # no group any more: the default workers run it
