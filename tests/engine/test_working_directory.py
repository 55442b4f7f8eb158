"""The working-directory group: its tasks run one after another in one folder on one worker, each recorded as its
own task run; a failing task fails the group; only worker tasks may be in it; the canvas shows it as a group."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlmodel import Session

from engine.core.states import State
from engine.flows.graph import flow_graph
from engine.flows.loader import load_flow, load_flow_or_raise
from engine.services import commands
from engine.storage import Address
from engine.storage.local import LocalStorage
from engine.store import executions as store
from tests.support.ids import unique

GROUP = """id: {id}
namespace: test
tasks:
  - id: first
    type: log
    message: before
  - id: folder
    type: working-directory
    tasks:
      - id: write
        type: shell
        commands:
          - echo "from the first task" > shared.txt
          - |
            echo '::lanner::{{"outputs": {{"size": 20}}}}'
      - id: read
        type: shell
        commands:
{read}
      - id: again
        type: return
        value: "{{{{ outputs.write.vars.size + 1 }}}}"
  - id: after
    type: return
    value: "{{{{ outputs.again.value }}}}"
"""


def _attempt_workers(cluster, execution_id: str) -> dict[str, str]:
    runs = {r.id: r.task_id for r in cluster.runs(execution_id).values()}
    with Session(cluster.db) as session:
        return {runs[a.task_run_id]: a.worker for a in store.task_run_attempts(session, execution_id)}


def test_a_flowable_task_inside_the_group_is_refused_when_the_flow_loads():
    source = (
        "id: f\nnamespace: test\ntasks:\n  - id: folder\n    type: working-directory\n    tasks:\n"
        "      - {id: inner, type: sequential, tasks: [{id: x, type: log, message: hi}]}\n"
    )
    problems = load_flow(source).problems
    assert problems, "a sequential group inside a working directory must be refused"
    assert "task 'inner' (type sequential) cannot be in a working-directory group" in problems[0].message
    assert problems[0].line >= 4


def test_the_canvas_shows_the_group_holding_its_tasks_in_order():
    graph = flow_graph(load_flow_or_raise(GROUP.format(id="f", read="          - cat shared.txt")))
    nodes = {n.id: n for n in graph.nodes}
    assert nodes["folder"].kind == "group" and nodes["folder"].type == "working-directory"
    assert [n.id for n in graph.nodes if n.parent == "folder"] == ["write", "read", "again"]
    edges = {(e.source, e.target, e.relation) for e in graph.edges}
    assert {("folder", "write", "sequence"), ("write", "read", "sequence"), ("read", "again", "sequence")} <= edges
    assert ("first", "folder", "sequence") in edges and ("folder", "after", "sequence") in edges


@pytest.mark.slow
def test_a_file_written_by_the_first_task_is_read_by_the_second_on_the_same_worker(cluster):
    read = (
        '          - test "$(cat shared.txt)" = "from the first task"\n          - \'echo "read: $(cat shared.txt)"\''
    )
    execution_id = cluster.run(GROUP.format(id=unique("f"), read=read))
    execution = cluster.wait(execution_id)
    runs = cluster.runs(execution_id)
    assert execution.state == "SUCCESS", {k: (r.state, r.error) for k, r in runs.items()}
    assert {k: r.state for k, r in runs.items()} == dict.fromkeys(
        ["first", "folder", "write", "read", "again", "after"], "SUCCESS"
    )
    group = runs["folder"]
    assert all(runs[t].parent_task_run_id == group.id for t in ("write", "read", "again"))
    assert runs["again"].outputs == {"value": 21} and runs["after"].outputs == {"value": 21}
    workers = _attempt_workers(cluster, execution_id)
    assert workers["write"] == workers["read"] == workers["again"] == workers["folder"]
    lines = [(line.task_id, line.message) for line in cluster.logs(execution_id)]
    assert ("read", "read: from the first task") in lines


def test_the_group_takes_input_files_and_keeps_the_folder_s_chosen_files_at_the_end(cluster):
    flow = (
        f"id: {unique('f')}\nnamespace: test\ntasks:\n"
        "  - id: folder\n    type: working-directory\n"
        "    inputFiles: {seed.txt: 'seeded'}\n"
        "    outputFiles: ['*.csv']\n"
        "    tasks:\n"
        "      - {id: one, type: shell, commands: ['cp seed.txt a.csv']}\n"
        "      - {id: two, type: shell, commands: ['cat a.csv > b.csv', 'echo scratch > notes.txt']}\n"
    )
    execution_id = cluster.run(flow)
    execution = cluster.wait(execution_id)
    runs = cluster.runs(execution_id)
    assert execution.state == "SUCCESS", {k: (r.state, r.error) for k, r in runs.items()}
    kept = runs["folder"].outputs["outputFiles"]
    assert sorted(kept) == ["a.csv", "b.csv"]  # notes.txt matched no pattern: not kept
    storage = LocalStorage(cluster.home / "storage")
    assert [storage.read(Address.parse(kept[name])) for name in ("a.csv", "b.csv")] == [b"seeded", b"seeded"]


@pytest.mark.slow
def test_a_failing_task_fails_the_group_and_the_tasks_after_it_do_not_run(cluster):
    execution_id = cluster.run(GROUP.format(id=unique("f"), read="          - exit 3"))
    assert cluster.wait(execution_id).state == "FAILED"
    runs = cluster.runs(execution_id)
    assert (runs["write"].state, runs["read"].state, runs["folder"].state) == ("SUCCESS", "FAILED", "FAILED")
    assert "again" not in runs and "after" not in runs
    assert "task 'read' of working directory 'folder' failed" in runs["folder"].error


def _group(tasks: str, group_extra: str = "") -> str:
    return (
        f"id: {unique('f')}\nnamespace: test\ntasks:\n  - id: folder\n    type: working-directory\n{group_extra}"
        f"    tasks:\n{tasks}"
    )


@pytest.mark.slow
def test_a_retry_or_a_restart_of_the_group_runs_its_tasks_again_in_a_fresh_folder_without_duplicates(cluster, tmp_path):
    marker, restart_marker = tmp_path / "seen", tmp_path / "restarted"
    tasks = (
        "      - {id: write, type: shell, commands: ['test ! -f left.txt', 'touch left.txt']}\n"
        f"      - {{id: flaky, type: shell, commands: ['if [ -f {marker} ]; then echo fine; "
        f"else touch {marker}; exit 1; fi']}}\n"
        f"      - {{id: gate, type: shell, commands: ['test -f {restart_marker}']}}\n"
    )
    execution_id = cluster.run(_group(tasks, "    retry: {type: constant, interval: 100ms, maxAttempts: 2}\n"))
    assert cluster.wait(execution_id).state == "FAILED"
    runs = cluster.runs(execution_id)
    assert runs["folder"].attempt_count == 2  # the second attempt ran write again: left.txt was not there
    assert (runs["write"].state, runs["flaky"].state, runs["gate"].state) == ("SUCCESS", "SUCCESS", "FAILED")
    with Session(cluster.db) as session:
        assert len(store.task_runs(session, execution_id)) == 4  # the first attempt's task runs are gone

    restart_marker.touch()
    cluster.kill("worker")  # to see what the restart queued before any worker takes it
    commands.restart_execution(cluster.conn, execution_id)
    runs = cluster.runs(execution_id)
    assert (runs["folder"].state, runs["gate"].state) == ("QUEUED", "FAILED")  # the group's attempt reruns it
    cluster.start_workers(2)
    assert cluster.wait(execution_id).state == "SUCCESS"
    runs = cluster.runs(execution_id)
    assert runs["folder"].attempt_count == 3 and runs["gate"].state == "SUCCESS"
    with Session(cluster.db) as session:
        assert len(store.task_runs(session, execution_id)) == 4
    workers = _attempt_workers(cluster, execution_id)
    assert workers["write"] == workers["flaky"] == workers["gate"]


@pytest.mark.slow
def test_killing_the_execution_stops_the_running_task_of_the_group(cluster, tmp_path):
    marker = tmp_path / "never"
    tasks = (
        f"      - {{id: long, type: shell, commands: ['sleep 30', 'touch {marker}']}}\n"
        "      - {id: next, type: log, message: never}\n"
    )
    execution_id = cluster.run(_group(tasks))
    cluster.wait_for_run(execution_id, "long", State.RUNNING)
    time.sleep(0.3)
    commands.kill_execution(cluster.conn, execution_id)
    assert cluster.wait(execution_id, timeout=10).state == "KILLED"
    runs = cluster.runs(execution_id)
    assert (runs["long"].state, runs["folder"].state) == ("KILLED", "KILLED") and "next" not in runs
    assert not marker.exists()


@pytest.mark.slow
def test_each_foreach_iteration_gets_its_own_folder_and_reads_its_own_outputs(cluster):
    source = (
        f"id: {unique('f')}\nnamespace: test\ntasks:\n  - id: each\n    type: foreach\n    values: [a, b]\n"
        "    concurrencyLimit: 0\n    tasks:\n      - id: folder\n        type: working-directory\n        tasks:\n"
        "          - {id: write, type: shell, commands: ['test ! -f v.txt', 'echo {{ taskrun.value }} > v.txt']}\n"
        "          - {id: read, type: shell, commands: ['cat v.txt']}\n"
        "          - {id: both, type: return, value: '{{ taskrun.value }}-{{ outputs.read.exitCode }}'}\n"
    )
    execution_id = cluster.run(source)
    assert cluster.wait(execution_id).state == "SUCCESS", cluster.runs(execution_id)
    runs = cluster.runs(execution_id)
    assert (runs["both[0]"].outputs, runs["both[1]"].outputs) == ({"value": "a-0"}, {"value": "b-0"})
    lines = {(line.task_id, line.message) for line in cluster.logs(execution_id)}
    assert {("read", "a"), ("read", "b")} <= lines


@pytest.mark.slow
def test_a_worker_that_dies_mid_group_fails_the_group_and_its_running_task(cluster):
    tasks = "      - {id: long, type: shell, commands: ['sleep 60']}\n      - {id: next, type: log, message: never}\n"
    execution_id = cluster.run(_group(tasks))
    cluster.wait_for_run(execution_id, "long", State.RUNNING)
    time.sleep(0.3)
    os.kill(int(_attempt_workers(cluster, execution_id)["long"].rsplit(":", 1)[1]), signal.SIGKILL)
    assert cluster.wait(execution_id, timeout=30).state == "FAILED"
    runs = cluster.runs(execution_id)
    assert (runs["folder"].state, runs["long"].state) == ("FAILED", "FAILED") and "next" not in runs
    assert "stopped responding" in runs["long"].error
