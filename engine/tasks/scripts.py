"""Script tasks: shell commands and inline Python."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from engine.tasks.base import Group, Task, registry


@registry.register
class Shell(Task):
    type: Literal["shell"]
    commands: Annotated[list[str], Field(min_length=1)]
    env: dict[str, str] = Field(default_factory=dict)
    working_directory: str | None = None
    interpreter: list[str] = Field(default_factory=lambda: ["/bin/sh", "-c"])
    output_files: list[str] = Field(default_factory=list)

    title: ClassVar[str] = "Shell commands"
    summary: ClassVar[str] = "Run shell commands; their output becomes log lines."
    group: ClassVar[Group] = Group.SCRIPTS
    icon: ClassVar[str] = "terminal"


@registry.register
class Python(Task):
    type: Literal["python"]
    script: Annotated[
        str,
        Field(min_length=1, json_schema_extra={"format": "code", "language": "python"}),
    ]
    env: dict[str, str] = Field(default_factory=dict)
    python: str | None = Field(default=None, description="Interpreter to use; defaults to the worker's own.")
    output_files: list[str] = Field(default_factory=list)

    title: ClassVar[str] = "Python script"
    summary: ClassVar[str] = "Run an inline Python script; it can emit outputs and logs."
    group: ClassVar[Group] = Group.SCRIPTS
    icon: ClassVar[str] = "file-code"
