"""A script task's outputFiles are files of its own working folder: never a file of the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.tasks.context import TaskFailed


@pytest.mark.parametrize("type_name", ["shell", "python"])
def test_output_files_outside_the_working_folder_are_refused_when_checked(run_task, type_name):
    code = {"commands": ["true"]} if type_name == "shell" else {"script": "pass"}
    for name in ("../../etc/passwd", "/etc/passwd", "a/../../b"):
        with pytest.raises(ValueError, match="must be a path inside the task's working folder"):
            run_task(type_name, outputFiles=[name], **code)


def test_a_symlink_leading_out_fails_the_task_and_copies_nothing(run_task, context, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("server secret")
    with pytest.raises(TaskFailed, match=r"output file 'link\.txt' is outside the task's working folder"):
        run_task("shell", commands=[f"ln -s {secret} link.txt"], outputFiles=["link.txt"])
    assert not context.storage.exists() or not any(context.storage.rglob("*"))


def test_a_rendered_name_is_checked_when_the_task_runs(run_task, context):
    # Names holding an expression are only known at run time: the check then is the same.
    with pytest.raises(TaskFailed, match="outside the task's working folder"):
        run_task("shell", commands=["true"], outputFiles=["{{ x }}/../../../etc/passwd"])


def test_files_inside_the_working_folder_are_kept(run_task, context):
    outputs = run_task("shell", commands=["mkdir -p out", "echo hi > out/a.txt"], outputFiles=["out/a.txt"])
    stored = outputs["outputFiles"]["out/a.txt"]
    assert stored.startswith(str(context.storage)) and Path(stored).read_text() == "hi\n"
