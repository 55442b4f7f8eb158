"""Script tasks: python's file/module/beforeCommands, the node and script tasks, and SDK metrics, run as a worker
runs them (a real RunContext, real interpreters)."""

from __future__ import annotations

import shutil
import sys
import textwrap

import pytest

from engine.flows.loader import load_flow
from engine.tasks.context import TaskFailed
from engine.tasks.metrics import MAX_METRICS, Metrics

needs_node = pytest.mark.skipif(not shutil.which("node"), reason="node is not installed on this machine")


def problems(task: str) -> list[str]:
    result = load_flow(f"id: f\nnamespace: test\ntasks:\n{textwrap.indent(task, '  ')}")
    return [problem.message for problem in result.problems]


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("- {id: p, type: python}", "a python task needs exactly one of script, file, module (got none)"),
        (
            "- {id: p, type: python, script: 'pass', file: a.py}",
            "a python task needs exactly one of script, file, module (got script and file)",
        ),
        ("- {id: n, type: node, script: '1', file: a.js}", "a node task needs exactly one of script, file (got"),
        ("- {id: p, type: python, script: 'pass', dependencies: ['pandas>>3']}", "dependency 'pandas>>3' is not"),
        ("- {id: n, type: node, script: '1', dependencies: ['-g evil']}", "is not an npm package name"),
        ("- {id: s, type: script, interpreter: [], script: 'x'}", "interpreter"),
    ],
)
def test_bad_script_tasks_are_refused_when_the_flow_loads(task, message):
    found = problems(task)
    assert any(message in text for text in found), found


def test_a_valid_python_task_with_dependencies_loads():
    assert problems("- {id: p, type: python, module: http.server, dependencies: ['Pandas>=2', pyarrow]}") == []


def test_python_runs_a_file_of_the_working_folder_with_arguments(run_task, context):
    (context.workdir / "main.py").write_text(
        "import sys\nfrom engine.sdk import outputs\noutputs({'args': sys.argv[1:]})\n"
    )
    outputs = run_task("python", file="main.py", args=["a", "b"])
    assert outputs["vars"] == {"args": ["a", "b"]} and outputs["exitCode"] == 0


def test_python_runs_a_file_on_the_worker_by_absolute_path(run_task, tmp_path):
    script = tmp_path / "elsewhere.py"
    script.write_text("from engine.sdk import outputs\noutputs({'where': __file__})\n")
    assert run_task("python", file=str(script))["vars"] == {"where": str(script)}


def test_a_missing_file_fails_with_its_name(run_task):
    with pytest.raises(TaskFailed, match=r"script file 'nope\.py' does not exist on this worker"):
        run_task("python", file="nope.py")


def test_python_runs_a_module_with_python_m(run_task, context):
    (context.workdir / "job.py").write_text(
        "import sys\nfrom engine.sdk import outputs\noutputs({'name': __name__, 'args': sys.argv[1:]})\n"
    )
    assert run_task("python", module="job", args=["x"])["vars"] == {"name": "__main__", "args": ["x"]}


def test_before_commands_run_first_in_the_working_folder(run_task, context):
    outputs = run_task(
        "python",
        beforeCommands=["echo prepared > ready.txt", "echo setting up"],
        script="from engine.sdk import outputs\noutputs({'read': open('ready.txt').read().strip()})\n",
    )
    assert outputs["vars"] == {"read": "prepared"}
    assert ("INFO", "setting up") in [(r.level, r.message) for r in context.records]


def test_a_failing_before_command_fails_the_task_with_its_output_logged(run_task, context):
    with pytest.raises(TaskFailed, match="beforeCommands failed with exit code 3"):
        run_task(
            "python",
            beforeCommands=["echo 'cannot prepare' >&2", "exit 3", "echo never"],
            script="open('ran.txt', 'w').write('ran')",
        )
    messages = [r.message for r in context.records]
    assert "cannot prepare" in messages and "never" not in messages
    assert not (context.workdir / "ran.txt").exists()  # the script never started


def test_script_task_runs_any_interpreter_with_before_commands(run_task, context):
    outputs = run_task(
        "script",
        interpreter=["perl", "-w"] if shutil.which("perl") else ["bash"],
        beforeCommands=["echo 21 > n.txt"],
        script=(
            'open(my $f, "<", "n.txt"); my $n = <$f>; chomp $n; print "::lanner::{\\"outputs\\":{\\"n\\":" . $n * 2 . "}}\\n";'
            if shutil.which("perl")
            else 'echo "::lanner::{\\"outputs\\":{\\"n\\":$(( $(cat n.txt) * 2 ))}}"'
        ),
    )
    assert outputs["vars"] == {"n": 42}


def test_script_task_with_args_and_extension(run_task, context):
    outputs = run_task("script", interpreter=["bash"], extension="sh", args=["hello"], script='echo "$0 $1"')
    assert outputs["exitCode"] == 0
    assert any(r.message.endswith("script.sh hello") for r in context.records)


def test_script_task_names_a_missing_interpreter(run_task):
    with pytest.raises(TaskFailed, match="need 'no-such-interpreter' on the worker"):
        run_task("script", interpreter=["no-such-interpreter"], script="x")


@needs_node
def test_node_script_uses_the_sdk_for_outputs_logs_and_metrics(run_task, context):
    outputs = run_task(
        "node",
        args=["7"],
        script=textwrap.dedent(
            """
            const lanner = require('lanner');
            lanner.outputs({ doubled: Number(process.argv[2]) * 2 });
            lanner.log('from node', 'warn');
            lanner.counter('rows', 5, { table: 'sales' });
            lanner.counter('rows', 2, { table: 'sales' });
            lanner.timed('work', () => 1 + 1);
            console.log('plain line');
            """
        ),
    )
    assert outputs["vars"] == {"doubled": 14}
    lines = [(r.level, r.message) for r in context.records]
    assert ("WARN", "from node") in lines and ("INFO", "plain line") in lines
    metrics = context.metrics.as_list()
    assert metrics[0] == {"type": "counter", "name": "rows", "tags": {"table": "sales"}, "value": 7}
    assert metrics[1]["name"] == "work" and metrics[1]["count"] == 1


@needs_node
def test_node_runs_a_file_and_fails_on_its_exit_code(run_task, context):
    (context.workdir / "app.js").write_text("process.exit(4)")
    with pytest.raises(TaskFailed, match="exited with code 4"):
        run_task("node", file="app.js")


def test_python_metrics_add_up_per_task_run(run_task, context):
    run_task(
        "python",
        script=textwrap.dedent(
            """
            import time
            from engine.sdk import counter, timed, timer
            counter("rows", 3, table="a")
            counter("rows", 4, table="a")
            counter("rows", table="b")
            timer("fetch", 0.5)
            timer("fetch", 1.5)
            with timed("block"):
                time.sleep(0.01)
            """
        ),
    )
    by_key = {(m["name"], tuple(m["tags"].items())): m for m in context.metrics.as_list()}
    assert by_key[("rows", (("table", "a"),))]["value"] == 7
    assert by_key[("rows", (("table", "b"),))]["value"] == 1
    assert by_key[("fetch", ())] == {
        "type": "timer",
        "name": "fetch",
        "tags": {},
        "count": 2,
        "total": 2.0,
        "min": 0.5,
        "max": 1.5,
    }
    assert by_key[("block", ())]["count"] == 1 and by_key[("block", ())]["total"] >= 0.01


def test_bad_metrics_are_ignored_with_a_warning(run_task, context):
    run_task(
        "python",
        script="from engine.sdk import counter, timer\ncounter('n', 'many')\ntimer('t', -1)\ncounter('ok')\n",
    )
    assert [m["name"] for m in context.metrics.as_list()] == ["ok"]
    warnings = [r.message for r in context.records if r.level == "WARN"]
    assert any("metric 'n' needs a number" in w for w in warnings)
    assert any("timer 't' needs a duration" in w for w in warnings)


def test_a_task_run_keeps_a_bounded_number_of_metrics():
    metrics = Metrics()
    for index in range(MAX_METRICS):
        assert metrics.record({"type": "counter", "name": "n", "value": 1, "tags": {"id": index}}) is None
    assert "at most" in metrics.record({"type": "counter", "name": "n", "value": 1, "tags": {"id": -1}})
    assert metrics.record({"type": "counter", "name": "n", "value": 1, "tags": {"id": 0}}) is None  # existing: fine
    assert len(metrics.as_list()) == MAX_METRICS


def test_the_worker_interpreter_is_the_default(run_task):
    outputs = run_task("python", script="import sys\nfrom engine.sdk import outputs\noutputs({'p': sys.executable})")
    assert outputs["vars"] == {"p": sys.executable}
