"""Real flows through real Redis, real executor and worker processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from rq import Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry

from engine.core.states import State
from engine.flows.inputs import InputsInvalid
from engine.runtime.queue import task_queue
from engine.services import commands
from engine.workspace import uploads
from tests.support.ids import unique

pytestmark = pytest.mark.slow


def flow(tasks: str, extra: str = "", namespace: str = "test") -> str:
    return f"id: {unique('f')}\nnamespace: {namespace}\n{extra}tasks:\n{tasks}"


def test_sequential_returns_pass_values_and_flow_outputs(cluster):
    tasks = "".join(
        f"  - {{id: t{i}, type: return, value: '{{{{ outputs.t{i - 1}.value + 1 }}}}'}}\n" for i in range(1, 6)
    )
    execution_id = cluster.run(
        flow(
            "  - {id: t0, type: return, value: 0}\n" + tasks,
            "outputs:\n  - {id: last, type: INT, value: '{{ outputs.t5.value }}'}\n",
        )
    )
    execution = cluster.wait(execution_id)
    assert execution.state == "SUCCESS" and execution.outputs == {"last": 5}
    runs = cluster.runs(execution_id)
    assert [runs[f"t{i}"].outputs["value"] for i in range(6)] == [0, 1, 2, 3, 4, 5]
    assert all(r.attempt_count == 1 for r in runs.values())


def test_log_levels_and_multiple_messages_are_stored(cluster):
    execution_id = cluster.run(
        flow(
            "  - {id: a, type: log, message: ['one {{ inputs.who }}', two], level: WARN}\n"
            "  - {id: b, type: log, message: hidden, level: DEBUG, logLevel: INFO}\n",
            "inputs:\n  - {id: who, type: STRING}\n",
        ),
        {"who": "Ana"},
    )
    cluster.wait(execution_id)
    lines = [(line.task_id, line.level, line.message) for line in cluster.logs(execution_id)]
    assert ("a", "WARN", "one Ana") in lines and ("a", "WARN", "two") in lines
    assert not [line for line in lines if line[0] == "b"]


def test_shell_streams_output_and_fails_on_exit_code(cluster):
    execution_id = cluster.run(
        flow(
            "  - id: sh\n    type: shell\n    env: {GREETING: hi}\n    commands:\n"
            '      - echo "$GREETING from shell"\n      - echo oops >&2\n'
            '      - |\n        echo \'::lanner::{"outputs": {"n": 3}}\'\n'
            "  - id: bad\n    type: shell\n    commands: ['exit 3']\n"
        )
    )
    execution = cluster.wait(execution_id)
    assert execution.state == "FAILED"
    runs = cluster.runs(execution_id)
    assert runs["sh"].outputs["vars"] == {"n": 3} and runs["sh"].outputs["exitCode"] == 0
    assert runs["bad"].state == "FAILED" and "exited with code 3" in runs["bad"].error
    lines = [(line.level, line.message) for line in cluster.logs(execution_id)]
    assert ("INFO", "hi from shell") in lines and ("WARN", "oops") in lines
    assert any(level == "ERROR" and "exited with code 3" in message for level, message in lines)


def test_python_script_emits_outputs_logs_and_files(cluster):
    execution_id = cluster.run(
        flow(
            "  - id: py\n    type: python\n    outputFiles: [data.txt]\n    script: |\n"
            "      from engine.sdk import outputs, log\n"
            "      open('data.txt', 'w').write('{{ inputs.n * 2 }}')\n"
            "      print('printed')\n      log('from helper', level='warn')\n"
            "      outputs({'total': {{ inputs.n }} + 1})\n"
            "  - {id: read, type: shell, commands: ['cat {{ outputs.py.outputFiles[\"data.txt\"] }}']}\n",
            "inputs:\n  - {id: n, type: INT}\n",
        ),
        {"n": 20},
    )
    assert cluster.wait(execution_id).state == "SUCCESS"
    assert cluster.runs(execution_id)["py"].outputs["vars"] == {"total": 21}
    lines = [(line.task_id, line.level, line.message) for line in cluster.logs(execution_id)]
    assert ("py", "INFO", "printed") in lines and ("py", "WARN", "from helper") in lines
    assert ("read", "INFO", "40") in lines


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = 201 if body.get("ok") else 500
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"echo": body, "auth": self.headers.get("X-Token")}).encode())

    def log_message(self, *args):  # silence
        pass


@pytest.fixture
def http_server():
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_http_request_outputs_and_expected_status(cluster, http_server):
    execution_id = cluster.run(
        flow(
            f"  - {{id: call, type: http.request, method: POST, uri: '{http_server}/x', headers: {{X-Token: abc}},"
            " json: {ok: true, n: 2}}\n"
            f"  - {{id: fails, type: http.request, method: POST, uri: '{http_server}/y', json: {{ok: false}}}}\n"
        )
    )
    assert cluster.wait(execution_id).state == "FAILED"
    runs = cluster.runs(execution_id)
    assert runs["call"].outputs["code"] == 201
    assert runs["call"].outputs["json"] == {"echo": {"ok": True, "n": 2}, "auth": "abc"}
    assert "answered 500" in runs["fails"].error and runs["fails"].outputs["code"] == 500


def test_undefined_expression_fails_naming_task_property_and_expression(cluster):
    execution_id = cluster.run(flow("  - {id: a, type: log, message: 'x {{ vars.nope }}'}\n"))
    cluster.wait(execution_id)
    error = cluster.runs(execution_id)["a"].error
    assert "task 'a' property 'message'" in error and "vars.nope" in error and "nope" in error


def test_retry_then_success_counts_attempts(cluster, tmp_path):
    marker = tmp_path / "seen"
    execution_id = cluster.run(
        flow(
            "  - id: flaky\n    type: shell\n    retry: {type: constant, interval: 100ms, maxAttempts: 3}\n"
            f"    commands: ['if [ -f {marker} ]; then echo fine; else touch {marker}; exit 1; fi']\n"
        )
    )
    assert cluster.wait(execution_id).state == "SUCCESS"
    assert cluster.runs(execution_id)["flaky"].attempt_count == 2


def test_flowables_parallel_switch_if_foreach_errors_finally(cluster):
    execution_id = cluster.run(
        flow(
            "  - id: par\n    type: parallel\n    tasks:\n      - {id: p1, type: return, value: 1}\n      - {id: p2, type: return, value: 2}\n"
            "  - id: sw\n    type: switch\n    value: '{{ outputs.p1.value + outputs.p2.value }}'\n"
            "    cases:\n      '3': [{id: three, type: log, message: three}]\n    defaults: [{id: other, type: log, message: o}]\n"
            "  - id: cond\n    type: if\n    condition: '{{ inputs.go }}'\n    then: [{id: yes_branch, type: log, message: y}]\n"
            "  - id: each\n    type: foreach\n    values: [a, b, c]\n    concurrencyLimit: 0\n"
            "    tasks:\n      - {id: up, type: return, value: '{{ taskrun.value | upper }}'}\n"
            "  - {id: boom, type: fail, message: on purpose}\n",
            "inputs:\n  - {id: go, type: BOOLEAN}\nerrors:\n  - {id: handler, type: log, message: handled}\n"
            "finally:\n  - {id: last, type: return, value: done}\n",
        ),
        {"go": True},
    )
    assert cluster.wait(execution_id).state == "FAILED"
    runs = cluster.runs(execution_id)
    assert {
        k: runs[k].state for k in ("par", "sw", "three", "cond", "yes_branch", "each", "handler", "last")
    } == dict.fromkeys(("par", "sw", "three", "cond", "yes_branch", "each", "handler", "last"), "SUCCESS")
    assert "other" not in runs
    assert [runs[f"up[{i}]"].outputs["value"] for i in range(3)] == ["A", "B", "C"]
    assert runs["boom"].error == "on purpose"


def test_bad_inputs_are_refused_before_anything_runs(cluster):
    yaml = flow("  - {id: a, type: log, message: m}\n", "inputs:\n  - {id: n, type: INT, max: 5}\n")
    namespace, flow_id = cluster.deploy(yaml)
    with pytest.raises(InputsInvalid, match=r"input 'n'.*above the maximum 5"):
        commands.start_execution(cluster.conn, namespace, flow_id, inputs={"n": 9})


def test_kill_stops_running_processes_quickly(cluster, tmp_path):
    marker = tmp_path / "never"
    execution_id = cluster.run(
        flow(
            f"  - {{id: long, type: shell, commands: ['sleep 30', 'touch {marker}']}}\n"
            "  - {id: after, type: log, message: never}\n"
        )
    )
    cluster.wait_for_run(execution_id, "long", State.RUNNING)
    time.sleep(0.3)
    started = time.monotonic()
    commands.kill_execution(cluster.conn, execution_id)
    execution = cluster.wait(execution_id, timeout=10)
    assert execution.state == "KILLED" and time.monotonic() - started < 2.5
    assert cluster.runs(execution_id)["long"].state == "KILLED" and "after" not in cluster.runs(execution_id)
    time.sleep(0.5)
    assert not marker.exists()


def test_restart_runs_failed_tasks_again_in_the_same_execution(cluster, tmp_path):
    marker = tmp_path / "second-time"
    execution_id = cluster.run(
        flow(
            "  - {id: first, type: return, value: 1}\n"
            f"  - {{id: flaky, type: shell, commands: ['test -f {marker}']}}\n"
            "  - {id: after, type: return, value: '{{ outputs.first.value + 1 }}'}\n",
            "errors:\n  - {id: alert, type: log, message: failed}\n",
        )
    )
    assert cluster.wait(execution_id).state == "FAILED"
    marker.touch()
    commands.restart_execution(cluster.conn, execution_id)
    assert cluster.wait(execution_id, State.SUCCESS).state == "SUCCESS"
    runs = cluster.runs(execution_id)
    assert runs["flaky"].attempt_count == 2 and runs["first"].attempt_count == 1
    assert runs["after"].outputs == {"value": 2} and "alert" not in runs


def test_replay_from_a_task_keeps_what_came_before(cluster):
    execution_id = cluster.run(
        flow(
            "  - {id: a, type: return, value: 1}\n  - {id: b, type: return, value: 2}\n"
            "  - {id: c, type: return, value: '{{ outputs.a.value + outputs.b.value }}'}\n"
        )
    )
    cluster.wait(execution_id)
    replay_id = commands.replay_execution(cluster.conn, execution_id, "b")
    assert cluster.wait(replay_id).state == "SUCCESS"
    original, replayed = cluster.runs(execution_id), cluster.runs(replay_id)
    assert replayed["a"].id != original["a"].id and replayed["a"].attempt_count == 1
    assert replayed["c"].outputs == {"value": 3}
    assert cluster.execution(replay_id).trigger["fromTask"] == "b"


def test_pause_and_resume_with_inputs(cluster):
    execution_id = cluster.run(
        flow(
            "  - id: approve\n    type: pause\n    onResume: [{id: ok, type: BOOLEAN}]\n"
            "  - {id: after, type: return, value: '{{ outputs.approve.resumed.ok }}'}\n"
        )
    )
    cluster.wait(execution_id, State.PAUSED)
    with pytest.raises(InputsInvalid):
        commands.resume_execution(cluster.conn, execution_id, {"ok": "maybe"})
    commands.resume_execution(cluster.conn, execution_id, {"ok": "true"})
    assert cluster.wait(execution_id).state == "SUCCESS"
    assert cluster.runs(execution_id)["after"].outputs == {"value": True}


def test_subflow_waits_and_returns_outputs(cluster):
    child = (
        "id: child\nnamespace: test.sub\ninputs:\n  - {id: x, type: INT}\ntasks:\n  - {id: r, type: return, value: '{{ inputs.x * 10 }}'}\n"
        "outputs:\n  - {id: y, value: '{{ outputs.r.value }}'}\n"
    )
    cluster.deploy(child)
    execution_id = cluster.run(
        flow(
            "  - {id: call, type: subflow, namespace: test.sub, flowId: child, inputs: {x: 4}}\n"
            "  - {id: use, type: return, value: '{{ outputs.call.outputs.y }}'}\n"
        )
    )
    assert cluster.wait(execution_id).state == "SUCCESS"
    assert cluster.runs(execution_id)["use"].outputs == {"value": 40}


def test_a_subflow_is_given_its_parents_uploaded_file_but_never_a_server_path(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("LANNER_HOME", str(cluster.home))  # where this process looks for the flow's uploads
    cluster.deploy(
        "id: reader\nnamespace: test.sub\ninputs:\n  - {id: file, type: FILE}\n"
        "tasks:\n  - {id: cat, type: shell, commands: ['cat {{ inputs.file }}']}\n"
    )
    parent = flow(
        "  - {id: passed, type: subflow, namespace: test.sub, flowId: reader, inputs: {file: '{{ inputs.data }}'}}\n"
        "  - {id: smuggled, type: subflow, namespace: test.sub, flowId: reader, inputs: {file: '{{ inputs.path }}'},"
        " allowFailure: true}\n",
        "inputs:\n  - {id: data, type: FILE}\n  - {id: path, type: STRING}\n",
    )
    namespace, flow_id = cluster.deploy(parent)
    upload = tmp_path / "d.csv"
    upload.write_text("from the parent\n")
    _, stored = uploads.store_local(cluster.home, namespace, flow_id, {"data": upload})
    server_file = tmp_path / "server.txt"
    server_file.write_text("not for operators\n")
    execution_id = cluster.run(parent, {"data": stored["data"], "path": str(server_file)})
    cluster.wait(execution_id)
    runs = cluster.runs(execution_id)
    assert runs["passed"].state == "SUCCESS", runs["passed"].error
    assert runs["smuggled"].state == "FAILED"
    assert "input 'file': a FILE input must be uploaded" in runs["smuggled"].error
    child = runs["passed"].outputs["executionId"]
    assert [line.message for line in cluster.logs(child)] == ["from the parent"]


def test_concurrency_limit_queues_the_second_execution(cluster):
    yaml = flow("  - {id: s, type: sleep, duration: 1s}\n", "concurrency: {limit: 1}\n")
    first = cluster.run(yaml)
    namespace, flow_id = cluster.deploy(yaml)
    second = commands.start_execution(cluster.conn, namespace, flow_id)
    cluster.wait(second, State.QUEUED, timeout=10)
    cluster.wait(first)
    assert cluster.wait(second).state == "SUCCESS"
    assert cluster.execution(second).started_at >= cluster.execution(first).ended_at


def test_secrets_render_and_are_masked_in_logs_and_errors(cluster_factory, monkeypatch):
    cluster = cluster_factory()
    cluster.env["LANNER_SECRET_API_TOKEN"] = "s3cr3t-value"
    cluster.start_executor()
    cluster.start_workers(1)
    execution_id = cluster.run(
        flow(
            "  - {id: use, type: shell, commands: ['echo token={{ secret(\"API_TOKEN\") }}']}\n"
            "  - {id: missing, type: log, message: '{{ secret(\"NOPE\") }}'}\n"
        )
    )
    cluster.wait(execution_id)
    lines = [line.message for line in cluster.logs(execution_id)]
    assert "token=****" in lines and not any("s3cr3t-value" in line for line in lines)
    assert "secret 'NOPE' is not set" in cluster.runs(execution_id)["missing"].error


def test_task_timeout_stops_the_process(cluster, tmp_path):
    marker = tmp_path / "late"
    execution_id = cluster.run(
        flow(f"  - {{id: slow, type: shell, timeout: 500ms, commands: ['sleep 5', 'touch {marker}']}}\n")
    )
    execution = cluster.wait(execution_id, timeout=10)
    assert execution.state == "FAILED" and "timed out after" in cluster.runs(execution_id)["slow"].error
    time.sleep(0.5)
    assert not marker.exists()


def test_sequential_group_and_pause_with_delay(cluster):
    execution_id = cluster.run(
        flow(
            "  - id: group\n    type: sequential\n    tasks:\n"
            "      - {id: one, type: return, value: 1}\n      - {id: wait, type: pause, delay: 500ms}\n"
            "      - {id: two, type: return, value: '{{ outputs.one.value + 1 }}'}\n"
        )
    )
    assert cluster.wait(execution_id, timeout=15).state == "SUCCESS"
    runs = cluster.runs(execution_id)
    assert runs["two"].outputs == {"value": 2} and runs["wait"].state == "SUCCESS"
    assert runs["two"].started_at - runs["one"].ended_at >= __import__("datetime").timedelta(milliseconds=450)


def test_a_follower_resuming_from_a_position_misses_and_repeats_nothing(cluster):
    from engine.runtime.follow import follow

    execution_id = cluster.run(
        flow(
            "  - id: talk\n    type: shell\n    commands: ['for i in $(seq 1 40); do echo line $i; sleep 0.02; done']\n"
        )
    )
    first, seen = [], 0
    for item in follow(cluster.db, cluster.redis, execution_id, timeout=30):
        if not isinstance(item, State):
            first.append(item)
            seen += 1
            if seen == 10:
                break  # the follower goes away mid-stream, then comes back
    rest = [
        item
        for item in follow(cluster.db, cluster.redis, execution_id, after=first[-1].id, timeout=30)
        if not isinstance(item, State)
    ]
    messages = [line.message for line in first + rest]
    assert messages == [f"line {i}" for i in range(1, 41)]


def test_shell_working_directory_and_a_failing_subflow(cluster, tmp_path):
    (tmp_path / "here.txt").write_text("found")
    cluster.deploy("id: broken\nnamespace: test.sub\ntasks:\n  - {id: f, type: fail, message: child failed}\n")
    execution_id = cluster.run(
        flow(
            f"  - {{id: cwd, type: shell, workingDirectory: '{tmp_path}', commands: ['cat here.txt']}}\n"
            "  - {id: tolerant, type: subflow, namespace: test.sub, flowId: broken, transmitFailed: false}\n"
            "  - {id: strict, type: subflow, namespace: test.sub, flowId: broken}\n"
        )
    )
    assert cluster.wait(execution_id).state == "FAILED"
    runs = cluster.runs(execution_id)
    assert ("cwd", "found") in [(line.task_id, line.message) for line in cluster.logs(execution_id)]
    assert runs["tolerant"].state == "SUCCESS" and runs["tolerant"].outputs["state"] == "FAILED"
    assert runs["strict"].state == "FAILED"


def test_finished_jobs_leave_nothing_behind_in_rq(cluster):
    """The worker ends each job itself (engine/runtime/worker.py ``LannerWorker.execute_job``): no job record, no
    started or failed entry, nothing in the intermediate list, and the workers idle again."""
    tasks = "".join(f"  - {{id: t{i}, type: return, value: {i}}}\n" for i in range(5))
    execution_id = cluster.run(
        flow("  - id: all\n    type: parallel\n    tasks:\n" + tasks.replace("  - ", "      - "))
    )
    assert cluster.wait(execution_id).state == "SUCCESS"
    queue = task_queue(cluster.redis)
    deadline = time.monotonic() + 10
    while True:  # the last job's pipeline lands just after the run's result
        left = {
            "jobs": [k for k in cluster.redis.keys("rq:job:*") if not k.endswith(b":dependents")],
            "started": StartedJobRegistry(queue=queue).get_job_ids(),
            "failed": FailedJobRegistry(queue=queue).get_job_ids(),
            "intermediate": cluster.redis.lrange(queue.intermediate_queue_key, 0, -1),
            "busy": [w.name for w in Worker.all(connection=cluster.redis) if w.get_state() != "idle"],
        }
        if not any(left.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert left == {"jobs": [], "started": [], "failed": [], "intermediate": [], "busy": []}
