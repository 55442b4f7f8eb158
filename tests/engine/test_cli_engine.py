"""``lanner run`` and ``lanner execution ...`` as real processes against a running engine."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.core.states import State

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent.parent


def lanner(cluster, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], env=cluster.env, capture_output=True, text=True, timeout=timeout
    )


def test_run_streams_logs_prints_outputs_and_exit_status(cluster):
    done = lanner(cluster, "run", str(ROOT / "examples" / "hello.yml"), "--input", "name=Ana", "--label", "env=test")
    assert done.returncode == 0, done.stderr
    assert "Hello, Ana!" in done.stdout and '"greeting": "Hello, Ana"' in done.stdout
    assert "SUCCESS" in done.stderr and "-- RUNNING" in done.stderr


def test_run_json_document_and_failure_exit(cluster, tmp_path: Path):
    flow = tmp_path / "f.yml"
    flow.write_text(
        "id: cli_fail\nnamespace: cli\ntasks:\n  - {id: a, type: return, value: 7}\n  - {id: b, type: fail, message: no}\n"
    )
    done = lanner(cluster, "run", str(flow), "--json")
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["state"] == "FAILED" and document["flowId"] == "cli_fail"
    runs = {r["taskId"]: r for r in document["taskRuns"]}
    assert runs["a"]["outputs"] == {"value": 7} and runs["a"]["attempts"] == 1 and runs["b"]["error"] == "no"


def test_run_refuses_bad_inputs_naming_them(cluster):
    done = lanner(cluster, "run", str(ROOT / "examples" / "acme" / "routing.yml"), "--input", "mode=slow")
    assert done.returncode == 1 and "input 'mode'" in done.stderr and "not one of full, quick" in done.stderr


def test_execution_list_show_logs_kill_restart(cluster, tmp_path: Path):
    flow = tmp_path / "slow.yml"
    flow.write_text(
        "id: slow\nnamespace: cli\ntasks:\n  - {id: hello, type: log, message: hi there}\n"
        "  - {id: nap, type: sleep, duration: 30s}\n"
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "engine", "run", str(flow)],
        env=cluster.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    execution_id = None
    while time.monotonic() < deadline and execution_id is None:
        listed = lanner(cluster, "execution", "list", "--flow", "slow").stdout.split()
        execution_id = listed[0] if listed else None
        time.sleep(0.2)
    cluster.wait_for_run(execution_id, "nap", State.RUNNING)
    assert "hi there" in lanner(cluster, "execution", "logs", execution_id).stdout
    assert lanner(cluster, "execution", "kill", execution_id).returncode == 0
    runner.communicate(timeout=30)
    assert runner.returncode == 1
    shown = lanner(cluster, "execution", "show", execution_id).stdout
    assert "KILLED" in shown and "nap" in shown
    again = lanner(cluster, "execution", "kill", execution_id)
    assert again.returncode == 1 and "already ended" in again.stderr
    assert lanner(cluster, "execution", "restart", execution_id).returncode == 0
    cluster.wait_for_run(execution_id, "nap", State.RUNNING)
    lanner(cluster, "execution", "kill", execution_id)
    follow = lanner(cluster, "execution", "logs", execution_id, "--follow")
    assert follow.returncode == 0 and follow.stdout.count("hi there") == 1


def test_run_gives_a_file_input_a_local_file_copied_into_the_flows_uploads(cluster, tmp_path: Path):
    flow = tmp_path / "files.yml"
    flow.write_text(
        "id: cli_file\nnamespace: cli\ninputs:\n  - {id: data, type: FILE}\n"
        "tasks:\n  - {id: show, type: shell, commands: ['cat {{ inputs.data }}']}\n"
    )
    local = tmp_path / "local.csv"
    local.write_text("a,b\n1,2\n")
    done = lanner(cluster, "run", str(flow), "-i", f"data={local}", "--json")
    assert done.returncode == 0, done.stderr
    execution = cluster.execution(json.loads(done.stdout)["id"])
    stored = Path(execution.inputs["data"])
    assert stored.parent.parent == (cluster.home / "uploads" / "cli" / "cli_file").resolve()
    assert stored.read_text() == "a,b\n1,2\n" and stored.name == "local.csv"
    assert [line.message for line in cluster.logs(execution.id)] == ["a,b", "1,2"]
    missing = lanner(cluster, "run", str(flow), "-i", f"data={tmp_path / 'nope.csv'}")
    assert missing.returncode == 1 and "input 'data'" in missing.stderr and "is not a file" in missing.stderr
    assert "Traceback" not in missing.stderr
