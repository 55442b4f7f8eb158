"""Script tasks: shell commands and Python (inline, a file or a module; with its own dependencies)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed
from engine.tasks.environments import python_environment, python_executable, python_requirements
from engine.tasks.files import TaskFiles, keep_outputs, output_dir_env, stage_inputs
from engine.tasks.process import run_before_commands, run_process

PROJECT = Path(__file__).resolve().parent.parent.parent


def script_environment(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LANNER_")}
    # Scripts can import the helper module (``from engine.sdk import outputs``) wherever Lanner lives.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _valid_python_requirements(dependencies: list[str]) -> list[str]:
    """Refuse, when the flow is checked, a dependency pip could not read (expressions are checked when rendered)."""
    python_requirements([text for text in dependencies if "{{" not in text])
    return dependencies


PythonDependencies = Annotated[list[str], AfterValidator(_valid_python_requirements)]
BeforeCommands = Annotated[list[str], Field(json_schema_extra={"x-lanner-code": "shell"})]


def exactly_one_source(task_type: str, given: dict[str, Any]) -> None:
    """A script task runs one thing: refuse none, or two, of its alternatives (``script``, ``file``...)."""
    named = [name for name, value in given.items() if value is not None]
    if len(named) != 1:
        choices = ", ".join(given)
        found = f"got {' and '.join(named)}" if named else "got none"
        raise ValueError(f"a {task_type} task needs exactly one of {choices} ({found})")


def script_file(ctx: RunContext, file: str) -> Path:
    """A ``file`` property: a path on the worker, or relative to the task's working folder."""
    path = Path(file) if Path(file).is_absolute() else ctx.workdir / file
    if not path.is_file():
        raise TaskFailed(f"script file '{file}' does not exist on this worker nor in the task's working folder")
    return path


def with_path(env: dict[str, str], folder: Path) -> dict[str, str]:
    """``env`` with ``folder`` first on PATH: beforeCommands and the script find the environment's programs."""
    return {**env, "PATH": os.pathsep.join(filter(None, [str(folder), env.get("PATH", os.defpath)]))}


#: The outputs of every script task (what ``script_outputs`` gives).
SCRIPT_OUTPUTS = {
    "exitCode": "The exit code of the process (0 when it went well).",
    "vars": "The values the script emitted (engine.sdk.outputs, require('lanner')) by name: outputs.<id>.vars.<name>.",
    "outputFiles": "The files kept (outputFiles, outputDir) by name: their lanner:// addresses for later tasks.",
}


def script_outputs(task: TaskFiles, ctx: RunContext, code: int, emitted: dict[str, Any], cwd: Path) -> dict[str, Any]:
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
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"commands": ["echo 'Hello from {{ flow.id }}'", "ls -l"]},
        {"commands": ["wc -l orders.csv"], "inputFiles": {"orders.csv": "{{ outputs.download.uri }}"}},
    )
    output_fields: ClassVar[dict[str, str]] = SCRIPT_OUTPUTS

    def run(self, ctx: RunContext) -> dict[str, Any]:
        cwd = Path(self.working_directory) if self.working_directory else ctx.workdir
        task = stage_inputs(self, ctx, cwd, ("commands", "env"))  # addresses become paths of local copies
        script = (
            "\n".join(["set -e", *task.commands]) if self.interpreter[0].endswith("sh") else "\n".join(task.commands)
        )
        env = script_environment({**task.env, **output_dir_env(self, cwd)})
        code, emitted = run_process([*self.interpreter, script], ctx, env=env, cwd=cwd)
        return script_outputs(self, ctx, code, emitted, cwd)


@registry.register
class Python(TaskFiles, Task):
    type: Literal["python"]
    script: Annotated[
        str | None,
        Field(min_length=1, json_schema_extra={"x-lanner-code": "python"}),
    ] = None
    """The Python code to run; print() lines become logs, engine.sdk.outputs() sets outputs."""
    file: str | None = None
    """Instead of script: a Python file to run, a path on the worker or in the task's working folder."""
    module: str | None = None
    """Instead of script: a module to run as `python -m module`."""
    args: list[str] = Field(default_factory=list)
    """Arguments given to the script, file or module (sys.argv[1:])."""
    dependencies: PythonDependencies = Field(default_factory=list)
    """Packages to install for the script (e.g. pandas==3.*), in a virtual environment cached per set."""
    before_commands: BeforeCommands = Field(default_factory=list)
    """Shell commands run first, in the working folder; the task fails if one fails."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables given to the script."""
    python: str | None = None
    """Python interpreter to use; by default the worker's own."""

    title: ClassVar[str] = "Python script"
    summary: ClassVar[str] = "Run Python (inline, a file or a module) with its own dependencies; it can emit outputs."
    group: ClassVar[Group] = Group.SCRIPTS
    icon: ClassVar[str] = "file-code"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"script": "from engine.sdk import outputs\n\ntotal = 40 + 2\noutputs({'total': total})\n"},
        {"script": "import pandas\nprint(pandas.__version__)\n", "dependencies": ["pandas"]},
    )
    output_fields: ClassVar[dict[str, str]] = SCRIPT_OUTPUTS

    @model_validator(mode="after")
    def _one_source(self) -> Python:
        exactly_one_source("python", {"script": self.script, "file": self.file, "module": self.module})
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        # addresses in the script, its arguments, env and before commands become paths of local copies
        task = stage_inputs(self, ctx, ctx.workdir, ("script", "file", "args", "env", "before_commands"))
        interpreter = self.python or sys.executable
        env = script_environment({**task.env, **output_dir_env(self, ctx.workdir)})
        if self.dependencies:
            environment = python_environment(
                self.dependencies, interpreter, check=ctx.check, log=lambda line: ctx.log("INFO", line)
            )
            interpreter = python_executable(environment)
            env = with_path({**env, "VIRTUAL_ENV": str(environment.path)}, environment.path / "bin")
        run_before_commands(task.before_commands, ctx, env=env, cwd=ctx.workdir)
        if self.module:
            target = ["-m", self.module]
        elif task.file:  # a path on the worker, in the working folder, or an address (a local copy by now)
            target = [str(script_file(ctx, task.file))]
        else:
            script = ctx.workdir / "script.py"
            script.write_text(task.script or "", encoding="utf-8")
            target = [str(script)]
        code, emitted = run_process([interpreter, *target, *task.args], ctx, env=env, cwd=ctx.workdir)
        return script_outputs(self, ctx, code, emitted, ctx.workdir)
