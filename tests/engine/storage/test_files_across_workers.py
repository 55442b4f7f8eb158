"""Done when: a flow's tasks on two workers with different LANNER_HOMEs pass a Parquet file through the S3 backend
(a real moto_server); the same flow on the local backend with one worker. Real executor and worker processes.

The second task is put on the other worker deterministically: a ``pause`` (run by the executor) sits between the
two tasks; while the execution is paused the first worker is stopped and the second one started."""

from __future__ import annotations

from sqlmodel import Session

from engine.core.states import State
from engine.services import commands
from engine.store import executions as store

FLOW = """\
id: parquet
namespace: acme.sales
tasks:
  - id: extract
    type: python
    outputFiles: [orders.parquet]
    script: |
      import pyarrow as pa, pyarrow.parquet as pq
      pq.write_table(pa.table({{"id": [1, 2, 3], "amount": [10.0, 20.5, 7.25]}}), "orders.parquet")
{handover}  - id: count
    type: python
    script: |
      import os, pyarrow.parquet as pq
      from engine.sdk import outputs
      path = "{{{{ outputs.extract.outputFiles['orders.parquet'] }}}}"
      outputs({{"rows": pq.read_table(path).num_rows, "local": os.path.isfile(path)}})
"""
HANDOVER = "  - id: handover\n    type: pause\n"


def _workers(cluster, execution_id: str) -> dict[str, str]:
    with Session(cluster.db) as session:
        runs = {run.id: run.task_id for run in store.task_runs(session, execution_id)}
        return {runs[a.task_run_id]: a.worker for a in store.task_run_attempts(session, execution_id)}


def test_a_parquet_file_passes_between_two_workers_with_different_homes_through_s3(cluster_factory, s3_server):
    first, second = cluster_factory(), cluster_factory()
    for cluster in (first, second):
        cluster.env.update(s3_server.env(prefix="across"))
    first.start_executor()
    first.start_workers(1)
    execution_id = first.run(FLOW.format(handover=HANDOVER))
    first.wait(execution_id, State.PAUSED)
    address = first.runs(execution_id)["extract"].outputs["outputFiles"]["orders.parquet"]
    assert address.startswith(f"lanner://acme.sales/parquet/{execution_id}/extract/1/")
    first.kill("worker")
    second.start_workers(1)
    commands.resume_execution(first.conn, execution_id)
    assert first.wait(execution_id, timeout=60).state == "SUCCESS"
    assert first.runs(execution_id)["count"].outputs["vars"] == {"rows": 3, "local": True}
    workers = _workers(first, execution_id)
    assert workers["extract"] != workers["count"]
    # Nothing went through either worker's own folder: the file is in the bucket, under the execution.
    assert not (first.home / "storage").exists() and not (second.home / "storage").exists()
    stored = s3_server.storage(prefix="across").files("acme.sales", "parquet", execution_id)
    assert [str(f.address) for f in stored] == [address]


def test_the_same_flow_on_the_local_backend_with_one_worker(cluster_factory):
    cluster = cluster_factory()
    cluster.start_executor()
    cluster.start_workers(1)
    execution_id = cluster.run(FLOW.format(handover=""))
    assert cluster.wait(execution_id, timeout=60).state == "SUCCESS"
    assert cluster.runs(execution_id)["count"].outputs["vars"] == {"rows": 3, "local": True}
    stored = cluster.home / "storage" / "acme.sales" / "parquet" / execution_id / "extract" / "1" / "orders.parquet"
    assert stored.is_file()


def test_each_iteration_of_a_loop_keeps_its_own_file_under_the_same_name(cluster_factory):
    cluster = cluster_factory()
    cluster.start_executor()
    cluster.start_workers(1)
    execution_id = cluster.run(
        "id: loop\nnamespace: acme\ntasks:\n"
        "  - id: each\n    type: foreach\n    values: [a, b]\n    tasks:\n"
        "      - id: write\n        type: shell\n        outputFiles: [v.txt]\n"
        "        commands: ['echo {{ taskrun.value }} > v.txt']\n"
    )
    assert cluster.wait(execution_id, timeout=60).state == "SUCCESS"
    runs = cluster.runs(execution_id)
    addresses = sorted(runs[f"write[{n}]"].outputs["outputFiles"]["v.txt"] for n in (0, 1))
    assert addresses == [f"lanner://acme/loop/{execution_id}/write.{n}/1/v.txt" for n in (0, 1)]
