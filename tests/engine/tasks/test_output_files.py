"""A script task's outputFiles are files of its own working folder, kept in internal storage by address: never a
file of the server."""

from __future__ import annotations

import pytest

from engine.storage import Address
from engine.tasks.context import TaskFailed


@pytest.mark.parametrize("type_name", ["shell", "python"])
def test_output_files_outside_the_working_folder_are_refused_when_checked(run_task, type_name):
    code = {"commands": ["true"]} if type_name == "shell" else {"script": "pass"}
    for name in ("../../etc/passwd", "/etc/passwd", "a/../../b", "../*.csv"):
        with pytest.raises(ValueError, match="must be a path inside the task's working folder"):
            run_task(type_name, outputFiles=[name], **code)


def test_a_symlink_leading_out_fails_the_task_and_copies_nothing(run_task, context, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("server secret")
    with pytest.raises(TaskFailed, match=r"output file 'link\.txt' is outside the task's working folder"):
        run_task("shell", commands=[f"ln -s {secret} link.txt"], outputFiles=["link.txt"])
    assert context.storage.files("acme", "flow", "execution") == []


def test_a_symlink_leading_out_found_by_a_glob_fails_the_task_too(run_task, context, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("server secret")
    with pytest.raises(TaskFailed, match=r"output file 'link\.csv' is outside the task's working folder"):
        run_task("shell", commands=["echo a > a.csv", f"ln -s {secret} link.csv"], outputFiles=["*.csv"])
    assert context.storage.files("acme", "flow", "execution") == []


def test_a_rendered_name_is_checked_when_the_task_runs(run_task, context):
    # Names holding an expression are only known at run time: the check then is the same.
    with pytest.raises(TaskFailed, match="outside the task's working folder"):
        run_task("shell", commands=["true"], outputFiles=["{{ x }}/../../../etc/passwd"])


def test_files_inside_the_working_folder_are_kept_by_address(run_task, context):
    outputs = run_task("shell", commands=["mkdir -p out", "echo hi > out/a.txt"], outputFiles=["out/a.txt"])
    address = outputs["outputFiles"]["out/a.txt"]
    assert address == "lanner://acme/flow/execution/task/1/out/a.txt"
    assert context.storage.read(Address.parse(address)) == b"hi\n"


def test_a_name_that_was_not_produced_fails_the_task(run_task):
    with pytest.raises(TaskFailed, match=r"output file 'missing\.txt' was not produced"):
        run_task("shell", commands=["true"], outputFiles=["missing.txt"])
