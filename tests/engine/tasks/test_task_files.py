"""Files in and out of script tasks: inputFiles from text, from an address and from an expression, addresses in
a script's text and environment replaced by local copies, outputFiles by glob, outputDir, names confined to the
working folder, and another namespace's files never read."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.runtime.worker import render_task
from engine.storage import Address
from engine.tasks import registry
from engine.tasks.context import TaskFailed

ORDERS = "lanner://acme/flow/earlier/extract/1/orders.csv"


@pytest.fixture
def orders(context, tmp_path: Path) -> str:
    """A file an earlier execution of the namespace kept, by address."""
    source = tmp_path / "orders.csv"
    source.write_text("id,amount\n1,10\n2,20\n")
    context.storage.put(Address.parse(ORDERS), source)
    return ORDERS


READ = "from engine.sdk import outputs\nimport os\noutputs({'text': open(%s).read()})\n"


def test_an_input_file_from_inline_text_is_written_into_the_working_folder(run_task):
    outputs = run_task("python", inputFiles={"data/in.txt": "hello"}, script=READ % "'data/in.txt'")
    assert outputs["vars"] == {"text": "hello"}


def test_an_input_file_from_an_address_is_a_copy_of_the_stored_file(run_task, orders):
    outputs = run_task("python", inputFiles={"in.csv": orders}, script=READ % "'in.csv'")
    assert outputs["vars"] == {"text": "id,amount\n1,10\n2,20\n"}


def test_an_input_file_from_an_expression_giving_an_address(context, orders):
    task = registry.get("python").model_validate(
        {
            "id": "task",
            "type": "python",
            "inputFiles": {"in.csv": "{{ outputs.extract.outputFiles['orders.csv'] }}"},
            "script": READ % "'in.csv'",
        }
    )
    rendered = render_task(task, {"outputs": {"extract": {"outputFiles": {"orders.csv": orders}}}})
    assert rendered.run(context)["vars"] == {"text": "id,amount\n1,10\n2,20\n"}


def test_addresses_in_a_script_its_commands_and_env_become_paths_of_local_copies(run_task, orders, context):
    outputs = run_task("python", script=READ % f"'{orders}'")
    assert outputs["vars"] == {"text": "id,amount\n1,10\n2,20\n"}
    shell = run_task(
        "shell",
        env={"ORDERS": orders},
        commands=[f"test -f {orders}", 'wc -l < "$ORDERS" > count.txt', 'echo "$ORDERS" > where.txt'],
        outputFiles=["count.txt", "where.txt"],
    )
    stored = {name: context.storage.read(Address.parse(a)).decode().strip() for name, a in shell["outputFiles"].items()}
    assert stored["count.txt"] == "3"
    assert stored["where.txt"].startswith(str(context.workdir)) and stored["where.txt"].endswith("orders.csv")


def test_a_script_file_given_by_address_runs_from_a_local_copy(run_task, context, tmp_path):
    job = tmp_path / "job.py"
    job.write_text("import sys\nfrom engine.sdk import outputs\noutputs({'args': sys.argv[1:]})\n")
    address = "lanner://acme/flow/earlier/build/1/job.py"
    context.storage.put(Address.parse(address), job)
    outputs = run_task("python", file=address, args=["--day", "2026-11-28"])
    assert outputs["vars"] == {"args": ["--day", "2026-11-28"]}


def test_an_address_of_another_namespace_fails_the_task_and_reads_nothing(run_task, context, tmp_path):
    source = tmp_path / "secret.csv"
    source.write_text("other team's data")
    context.storage.put(Address.parse("lanner://other/flow/x/t/1/secret.csv"), source)
    with pytest.raises(TaskFailed, match=r"belongs to namespace 'other'.*of 'acme' reads only its own"):
        run_task("shell", commands=["cat lanner://other/flow/x/t/1/secret.csv"])
    with pytest.raises(TaskFailed, match="belongs to namespace 'other'"):
        run_task("python", inputFiles={"s.csv": "lanner://other/flow/x/t/1/secret.csv"}, script="pass")
    assert not list(context.workdir.rglob("secret.csv"))


def test_an_address_that_does_not_exist_fails_the_task(run_task):
    with pytest.raises(TaskFailed, match=r"lanner://acme/flow/gone/t/1/a\.csv does not exist"):
        run_task("shell", commands=["cat lanner://acme/flow/gone/t/1/a.csv"])


@pytest.mark.parametrize("name", ["../x", "/etc/x", "a/../../x"])
def test_an_input_file_name_leaving_the_folder_is_refused_when_checked(run_task, name):
    with pytest.raises(ValueError, match=f"input file '{name}' must be a path inside the task's working folder"):
        run_task("shell", inputFiles={name: "x"}, commands=["true"])


def test_a_rendered_input_file_name_leaving_the_folder_fails_when_the_task_runs(run_task, context):
    with pytest.raises(TaskFailed, match=r"input file .* is outside the task's working folder"):
        run_task("shell", inputFiles={"{{ x }}/../../../escaped.txt": "x"}, commands=["true"])
    assert not (context.workdir.parent / "escaped.txt").exists()


def test_output_files_by_glob_keep_every_match(run_task, context):
    outputs = run_task(
        "shell",
        commands=[
            "mkdir -p out/a/b",
            "echo 1 > x.csv",
            "echo 2 > y.csv",
            "echo 3 > z.txt",
            "echo 4 > out/a/b/p.parquet",
        ],
        outputFiles=["*.csv", "out/**/*.parquet"],
    )
    assert sorted(outputs["outputFiles"]) == ["out/a/b/p.parquet", "x.csv", "y.csv"]
    assert context.storage.read(Address.parse(outputs["outputFiles"]["out/a/b/p.parquet"])) == b"4\n"


def test_a_glob_does_not_keep_the_local_copies_of_the_inputs(run_task, orders):
    outputs = run_task("shell", commands=[f"cp {orders} mine.csv"], outputFiles=["**/*.csv"])
    assert sorted(outputs["outputFiles"]) == ["mine.csv"]


@pytest.mark.parametrize("type_name", ["shell", "python"])
def test_output_dir_keeps_every_file_the_task_wrote_there(run_task, context, type_name):
    code = (
        {"commands": ['mkdir -p "$LANNER_OUTPUT_DIR/sub"', 'echo a > "$LANNER_OUTPUT_DIR/sub/a.txt"']}
        if type_name == "shell"
        else {"script": "import os\nopen(os.environ['LANNER_OUTPUT_DIR'] + '/b.txt', 'w').write('b')\n"}
    )
    outputs = run_task(type_name, outputDir=True, **code)
    names = {"shell": "sub/a.txt", "python": "b.txt"}
    assert list(outputs["outputFiles"]) == [names[type_name]]
    assert context.storage.read(Address.parse(outputs["outputFiles"][names[type_name]])) in (b"a\n", b"b")


def test_a_storage_that_cannot_be_opened_fails_only_the_tasks_that_use_files(context, run_task):
    from engine.storage.base import UnusableStorage

    context.storage = UnusableStorage("LANNER_STORAGE_URL 'ftp://x' is not a storage this Lanner knows")
    assert run_task("shell", commands=["echo ok"])["exitCode"] == 0
    with pytest.raises(TaskFailed, match=r"output file 'a\.txt': LANNER_STORAGE_URL 'ftp://x' is not a storage"):
        run_task("shell", commands=["echo a > a.txt"], outputFiles=["a.txt"])
    with pytest.raises(TaskFailed, match=r"lanner://acme/f/e/t/1/a\.txt: LANNER_STORAGE_URL"):
        run_task("shell", commands=["cat lanner://acme/f/e/t/1/a.txt"])
