"""Script tasks: shell commands and inline Python."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field

from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed
from engine.tasks.process import run_process

PROJECT = Path(__file__).resolve().parent.parent.parent


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LANNER_")}
    # Scripts can import the helper module (``from engine.sdk import outputs``) wherever Lanner lives.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _inside(folder: Path, name: str) -> Path:
    """``folder / name`` once it is known to stay inside ``folder`` (no ``..``, no absolute path, no symlink
    leading out): a task keeps the files it made, never the server's."""
    resolved = (folder / name).resolve()
    if Path(name).is_absolute() or not resolved.is_relative_to(folder.resolve()):
        raise TaskFailed(f"output file '{name}' is outside the task's working folder: name a file inside it")
    return resolved


def _relative_names(names: list[str]) -> list[str]:
    """Refuse, when the flow is checked, output file names that could only point outside the working folder."""
    for name in names:
        if "{{" not in name and (Path(name).is_absolute() or ".." in Path(name).parts):
            raise ValueError(f"output file '{name}' must be a path inside the task's working folder")
    return names


OutputFiles = Annotated[list[str], AfterValidator(_relative_names)]


def _finish(task: Shell | Python, ctx: RunContext, code: int, emitted: dict[str, Any], cwd: Path) -> dict[str, Any]:
    files = {}
    for name in task.output_files:
        produced = _inside(cwd, name)
        if not produced.is_file():
            raise TaskFailed(f"output file '{name}' was not produced")
        files[name] = ctx.store_file(produced, name)
    outputs = {"exitCode": code, "vars": emitted, "outputFiles": files}
    if code != 0:
        raise TaskFailed(f"exited with code {code}", outputs)
    return outputs


@registry.register
class Shell(Task):
    type: Literal["shell"]
    commands: Annotated[list[str], Field(min_length=1, json_schema_extra={"x-lanner-code": "shell"})]
    """Shell commands run one after the other; the task fails at the first that fails."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables given to the commands."""
    working_directory: str | None = None
    """Folder the commands run in; by default a fresh folder for this task."""
    interpreter: list[str] = Field(default_factory=lambda: ["/bin/sh", "-c"])
    """Program that runs the commands, followed by its arguments."""
    output_files: OutputFiles = Field(default_factory=list)
    """Files the commands write that later tasks can read, via outputs.<id>.outputFiles['name']."""

    title: ClassVar[str] = "Shell commands"
    summary: ClassVar[str] = "Run shell commands; their output becomes log lines."
    group: ClassVar[Group] = Group.SCRIPTS
    icon: ClassVar[str] = "terminal"

    def run(self, ctx: RunContext) -> dict[str, Any]:
        cwd = Path(self.working_directory) if self.working_directory else ctx.workdir
        script = (
            "\n".join(["set -e", *self.commands]) if self.interpreter[0].endswith("sh") else "\n".join(self.commands)
        )
        code, emitted = run_process([*self.interpreter, script], ctx, env=_environment(self.env), cwd=cwd)
        return _finish(self, ctx, code, emitted, cwd)


@registry.register
class Python(Task):
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
    output_files: OutputFiles = Field(default_factory=list)
    """Files the script writes that later tasks can read, via outputs.<id>.outputFiles['name']."""

    title: ClassVar[str] = "Python script"
    summary: ClassVar[str] = "Run an inline Python script; it can emit outputs and logs."
    group: ClassVar[Group] = Group.SCRIPTS
    icon: ClassVar[str] = "file-code"

    def run(self, ctx: RunContext) -> dict[str, Any]:
        script = ctx.workdir / "script.py"
        script.write_text(self.script, encoding="utf-8")
        interpreter = self.python or sys.executable
        code, emitted = run_process([interpreter, str(script)], ctx, env=_environment(self.env), cwd=ctx.workdir)
        return _finish(self, ctx, code, emitted, ctx.workdir)
