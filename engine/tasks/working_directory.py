"""The ``working-directory`` group (Kestra's WorkingDirectory): its tasks run one after another in ONE folder on
ONE worker, so a file the first writes is there for the second.

Unlike the flowables of ``flowable.py`` (decided by the executor), the group is queued as one job: the worker that
takes it runs the tasks in order (``run`` below), each recorded as its own task run under the group's run, with its
state, outputs and logs (``engine/runtime/working_directory.py`` records them); a later task's expressions read the
earlier ones' outputs. A task that fails (without ``allowFailure``) fails the group and the tasks after it do not
run; a retry of the group runs them all again, in a fresh folder. Like a script task, the group takes
``inputFiles`` (written into the folder before its first task) and keeps the folder's chosen files at the end
(``outputFiles`` names or globs, ``outputDir``) as ``outputs.<group>.outputFiles``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from engine.core.states import State
from engine.tasks.base import Group, ListField, Task, registry
from engine.tasks.context import RunContext, TaskFailed, TaskKilled
from engine.tasks.files import TaskFiles, keep_outputs, stage_inputs

if TYPE_CHECKING:
    AnyTask = Task


@registry.register
class WorkingDirectory(TaskFiles, Task):
    type: Literal["working-directory"]
    tasks: Annotated[list[AnyTask], Field(min_length=1)]
    """The tasks run one after another in the same folder, on the same worker (no flowable tasks)."""

    title: ClassVar[str] = "Working directory"
    summary: ClassVar[str] = "Run tasks one after another in one folder on one worker, sharing its files."
    group: ClassVar[Group] = Group.FLOW_CONTROL
    icon: ClassVar[str] = "folder-open"
    list_fields: ClassVar[tuple[ListField, ...]] = (ListField("tasks"),)
    examples: ClassVar[tuple[dict[str, Any], ...]] = (
        {
            "tasks": [
                {"id": "fetch", "type": "shell", "commands": ["echo 'a,b' > data.csv"]},
                {"id": "count", "type": "shell", "commands": ["wc -l data.csv"]},
            ],
            "outputFiles": ["data.csv"],
        },
    )
    output_fields: ClassVar[dict[str, str]] = {
        "outputFiles": "The files kept (outputFiles, outputDir), by name: their lanner:// addresses."
    }

    @field_validator("tasks")
    @classmethod
    def _only_worker_tasks(cls, tasks: list[Any]) -> list[Any]:
        for task in tasks:
            kind = type(task)
            if getattr(kind, "runs_on", "worker") != "worker" or getattr(kind, "list_fields", ()):
                raise ValueError(
                    f"task '{task.id}' (type {task.type}) cannot be in a working-directory group: only tasks a "
                    "worker runs can (not groups, if, switch, foreach, subflow or pause)"
                )
        return tasks

    def run(self, ctx: RunContext) -> dict[str, Any]:
        if ctx.run_child is None:
            raise TaskFailed(f"task '{self.id}': a working-directory group runs on a worker")
        stage_inputs(self, ctx, ctx.workdir, ())
        for task in self.tasks:
            ctx.check()
            state = ctx.run_child(task)
            if state == State.KILLED:
                raise TaskKilled("killed")
            if state == State.FAILED:
                raise TaskFailed(f"task '{task.id}' of working directory '{self.id}' failed")
            if state == State.WARNING:
                ctx.warned = True
        return {"outputFiles": keep_outputs(self, ctx, ctx.workdir)}
