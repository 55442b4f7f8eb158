"""Scripts in other languages: ``node`` (with npm dependencies) and ``script`` (any interpreter on the worker)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from engine.tasks.base import Group, Task, registry
from engine.tasks.context import RunContext, TaskFailed
from engine.tasks.environments import node_environment, node_requirements
from engine.tasks.files import TaskFiles, output_dir_env, stage_inputs
from engine.tasks.process import run_before_commands, run_process
from engine.tasks.scripts import (
    SCRIPT_OUTPUTS,
    BeforeCommands,
    exactly_one_source,
    script_environment,
    script_file,
    script_outputs,
    with_path,
)

NODE_SDK = Path(__file__).resolve().parent.parent / "nodejs"  # require('lanner'): engine/nodejs/lanner.js


def _valid_node_requirements(dependencies: list[str]) -> list[str]:
    node_requirements([text for text in dependencies if "{{" not in text])
    return dependencies


def _program(name: str, task_type: str) -> str:
    found = shutil.which(name)
    if not found:
        raise TaskFailed(f"{task_type} tasks need '{name}' on the worker, and it is not installed (or not on PATH)")
    return found


@registry.register
class Node(TaskFiles, Task):
    type: Literal["node"]
    script: Annotated[str | None, Field(min_length=1, json_schema_extra={"x-lanner-code": "javascript"})] = None
    """The JavaScript code to run (CommonJS); require('lanner') emits outputs, logs and metrics."""
    file: str | None = None
    """Instead of script: a JavaScript file to run, a path on the worker or in the task's working folder."""
    args: list[str] = Field(default_factory=list)
    """Arguments given to the script (process.argv.slice(2))."""
    dependencies: Annotated[list[str], AfterValidator(_valid_node_requirements)] = Field(default_factory=list)
    """npm packages the script requires (e.g. dayjs, left-pad@1.3.0), installed once into a cached folder."""
    before_commands: BeforeCommands = Field(default_factory=list)
    """Shell commands run first, in the working folder; the task fails if one fails."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables given to the script."""

    title: ClassVar[str] = "Node.js script"
    summary: ClassVar[str] = "Run JavaScript with Node.js, with npm dependencies; it can emit outputs."
    group: ClassVar[Group] = Group.SCRIPTS
    icon: ClassVar[str] = "file-code"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"script": "const lanner = require('lanner');\nlanner.outputs({ total: 42 });\n"},
    )
    output_fields: ClassVar[dict[str, str]] = SCRIPT_OUTPUTS

    @model_validator(mode="after")
    def _one_source(self) -> Node:
        exactly_one_source("node", {"script": self.script, "file": self.file})
        return self

    def run(self, ctx: RunContext) -> dict[str, Any]:
        node = _program("node", "node")
        task = stage_inputs(self, ctx, ctx.workdir, ("script", "file", "args", "env", "before_commands"))
        env = script_environment({**task.env, **output_dir_env(self, ctx.workdir)})
        modules = [str(NODE_SDK)]
        if self.dependencies:
            environment = node_environment(self.dependencies, check=ctx.check, log=lambda line: ctx.log("INFO", line))
            modules.insert(0, str(environment.path / "node_modules"))
            env = with_path(env, environment.path / "node_modules" / ".bin")
        env["NODE_PATH"] = os.pathsep.join(filter(None, [*modules, env.get("NODE_PATH", "")]))
        run_before_commands(task.before_commands, ctx, env=env, cwd=ctx.workdir)
        if task.file:  # a path on the worker, in the working folder, or an address (a local copy by now)
            target = script_file(ctx, task.file)
        else:
            target = ctx.workdir / "script.js"
            target.write_text(task.script or "", encoding="utf-8")
        code, emitted = run_process([node, str(target), *task.args], ctx, env=env, cwd=ctx.workdir)
        return script_outputs(self, ctx, code, emitted, ctx.workdir)


@registry.register
class Script(TaskFiles, Task):
    type: Literal["script"]
    interpreter: Annotated[list[str], Field(min_length=1)]
    """The program that runs the script, with its arguments (e.g. [ruby], [Rscript], [julia], [perl, -w])."""
    script: Annotated[str, Field(min_length=1, json_schema_extra={"x-lanner-code": "text"})]
    """The script's text: written to a file whose path is given to the interpreter after its arguments."""
    extension: str = ""
    """Ending of the script file's name (e.g. .R, .jl), for interpreters that need one."""
    args: list[str] = Field(default_factory=list)
    """Arguments given after the script file."""
    before_commands: BeforeCommands = Field(default_factory=list)
    """Shell commands run first, in the working folder; the task fails if one fails."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables given to the script."""

    title: ClassVar[str] = "Script (any language)"
    summary: ClassVar[str] = "Run a script with an interpreter installed on the worker (R, Ruby, Julia, Perl...)."
    group: ClassVar[Group] = Group.SCRIPTS
    icon: ClassVar[str] = "file-code"
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {"interpreter": ["ruby"], "script": "puts 'Hello from Ruby'", "extension": ".rb"},
    )
    output_fields: ClassVar[dict[str, str]] = SCRIPT_OUTPUTS

    def run(self, ctx: RunContext) -> dict[str, Any]:
        program = _program(self.interpreter[0], "this script") if "/" not in self.interpreter[0] else None
        if program is None and not Path(self.interpreter[0]).is_file():
            raise TaskFailed(f"interpreter '{self.interpreter[0]}' does not exist on this worker")
        task = stage_inputs(self, ctx, ctx.workdir, ("script", "args", "env", "before_commands"))
        env = script_environment({**task.env, **output_dir_env(self, ctx.workdir)})
        run_before_commands(task.before_commands, ctx, env=env, cwd=ctx.workdir)
        suffix = self.extension if not self.extension or self.extension.startswith(".") else f".{self.extension}"
        target = ctx.workdir / f"script{suffix}"
        target.write_text(task.script, encoding="utf-8")
        argv = [program or self.interpreter[0], *self.interpreter[1:], str(target), *task.args]
        code, emitted = run_process(argv, ctx, env=env, cwd=ctx.workdir)
        return script_outputs(self, ctx, code, emitted, ctx.workdir)
