"""Script tasks: shell commands and inline Python."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed
from engine.tasks.files import TaskFiles, keep_outputs, output_dir_env, stage_inputs
from engine.tasks.process import run_process

PROJECT = Path(__file__).resolve().parent.parent.parent


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LANNER_")}
    # Scripts can import the helper module (``from engine.sdk import outputs``) wherever Lanner lives.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _finish(task: Shell | Python, ctx: RunContext, code: int, emitted: dict[str, Any], cwd: Path) -> dict[str, Any]:
    outputs = {"exitCode": code, "vars": emitted, "outputFiles": keep_outputs(task, ctx, cwd)}
    if code != 0:
        raise TaskFailed(f"exited with code {code}", outputs)
    return outputs


@registry.register
class Shell(TaskFiles, Task):
    type: Literal["shell"]
    commands: Annotated[list[str], Field(min_length=1, json_schema_extra={"x-lanner-code": "shell"})]
    """Shell commands run one after the other; the task fails at the first that fails."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables given to the commands."""
    working_directory: str | None = None
    """Folder the commands run in; by default a fresh folder for this task."""
    interpreter: list[str] = Field(default_factory=lambda: ["/bin/sh", "-c"])
    """Program that runs the commands, followed by its arguments."""

    title: ClassVar[str] = "Shell commands"
    summary: ClassVar[str] = "Run shell commands; their output becomes log lines."
    group: ClassVar[Group] = Group.SCRIPTS
    icon: ClassVar[str] = "terminal"

    def run(self, ctx: RunContext) -> dict[str, Any]:
        cwd = Path(self.working_directory) if self.working_directory else ctx.workdir
        task = stage_inputs(self, ctx, cwd, ("commands", "env"))  # addresses become paths of local copies
        script = (
            "\n".join(["set -e", *task.commands]) if self.interpreter[0].endswith("sh") else "\n".join(task.commands)
        )
        env = _environment({**task.env, **output_dir_env(self, cwd)})
        code, emitted = run_process([*self.interpreter, script], ctx, env=env, cwd=cwd)
        return _finish(self, ctx, code, emitted, cwd)


@registry.register
class Python(TaskFiles, Task):
    type: Literal["python"]
    script: Annotated[
        str,
        Field(min_length=1, json_schema_extra={"x-lanner-code": "python"}),
    ]
    """The Python code to run; print() lines become logs, engine.sdk.outputs() sets outputs."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables given to the script."""
    python: str | None = None
    """Python interpreter to use; by default the worker's own."""

    title: ClassVar[str] = "Python script"
    summary: ClassVar[str] = "Run an inline Python script; it can emit outputs and logs."
    group: ClassVar[Group] = Group.SCRIPTS
    icon: ClassVar[str] = "file-code"

    def run(self, ctx: RunContext) -> dict[str, Any]:
        task = stage_inputs(self, ctx, ctx.workdir, ("script", "env"))  # addresses become paths of local copies
        script = ctx.workdir / "script.py"
        script.write_text(task.script, encoding="utf-8")
        interpreter = self.python or sys.executable
        env = _environment({**task.env, **output_dir_env(self, ctx.workdir)})
        code, emitted = run_process([interpreter, str(script)], ctx, env=env, cwd=ctx.workdir)
        return _finish(self, ctx, code, emitted, ctx.workdir)
