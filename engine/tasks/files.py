"""Files in and out of script tasks, on any worker: ``inputFiles`` written into the working folder before the task
runs, ``lanner://`` addresses in its texts replaced by local copies, ``outputFiles`` (names or globs) and
``outputDir`` kept in internal storage after it ends, returned as addresses.

``TaskFiles`` holds the properties; a script task inherits it (``class Shell(TaskFiles, Task)``), calls
``stage_inputs`` before it starts its process and ``keep_outputs`` after. Every name stays inside the working
folder: a literal one is refused when the flow is checked, a computed one or a symlink leading out when the task runs.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, Field

from engine.flows.spec import Spec
from engine.storage.address import ADDRESS_PATTERN, SCHEME, Address, InvalidAddress
from engine.storage.base import FileMissing, StorageUnavailable
from engine.tasks.context import RunContext, TaskFailed

DOWNLOADS = ".lanner-inputs"  # under the working folder: local copies of the addresses a task reads
OUTPUT_DIR = "output"  # under the working folder: with outputDir, every file written here is kept
T = TypeVar("T")


def _literal_inside(name: str, what: str) -> str:
    if "{{" not in name and (not name or Path(name).is_absolute() or ".." in Path(name).parts):
        raise ValueError(f"{what} '{name}' must be a path inside the task's working folder")
    return name


def _output_names(names: list[str]) -> list[str]:
    """Refuse, when the flow is checked, output file names that could only point outside the working folder."""
    return [_literal_inside(name, "output file") for name in names]


def _input_names(files: dict[str, str]) -> dict[str, str]:
    for name in files:
        _literal_inside(name, "input file")
    return files


class TaskFiles(Spec):
    """The file properties of script tasks (shell, python, and those that run a script the same way)."""

    input_files: Annotated[dict[str, str], AfterValidator(_input_names)] = Field(default_factory=dict)
    """Files written into the working folder before the task runs: name -> inline text, or a lanner:// address
    (or an expression giving one, e.g. {{ outputs.extract.outputFiles['orders.csv'] }}) whose file is copied."""
    output_files: Annotated[list[str], AfterValidator(_output_names)] = Field(default_factory=list)
    """Files the task writes that later tasks can read, by name or glob (*.csv, out/**/*.parquet), as
    outputs.<id>.outputFiles['name'] (a lanner:// address)."""
    output_dir: bool = False
    """Keep every file the task writes under the folder named by env LANNER_OUTPUT_DIR (as outputFiles)."""


def inside(folder: Path, name: str, what: str = "output file") -> Path:
    """``folder / name`` once it is known to stay inside ``folder`` (no ``..``, no absolute path, no symlink
    leading out): a task keeps the files it made, never the server's."""
    resolved = (folder / name).resolve()
    if not name or Path(name).is_absolute() or not resolved.is_relative_to(folder.resolve()):
        raise TaskFailed(f"{what} '{name}' is outside the task's working folder: name a file inside it")
    return resolved


def output_dir_env(task: TaskFiles, cwd: Path) -> dict[str, str]:
    """``LANNER_OUTPUT_DIR`` for a task with ``outputDir`` (the folder is made), else nothing."""
    if not task.output_dir:
        return {}
    folder = cwd / OUTPUT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return {"LANNER_OUTPUT_DIR": str(folder)}


def readable(ctx: RunContext, text: str) -> Address:
    """The address ``text`` names, once it is known to be one this task may read (its own namespace's, with a
    storage to read it from); a clear TaskFailed otherwise."""
    try:
        address = Address.parse(text.strip() if isinstance(text, str) else text)
    except InvalidAddress as exc:
        raise TaskFailed(f"file address: {exc}") from None
    if address.namespace != ctx.namespace:
        raise TaskFailed(
            f"{text} belongs to namespace '{address.namespace}': a task of '{ctx.namespace}' "
            "reads only its own namespace's files"
        )
    if ctx.storage is None:
        raise TaskFailed(f"{text}: this task has no file storage")
    return address


def local_copy(ctx: RunContext, text: str, folder: Path) -> Path:
    """A local copy, under ``folder``, of the stored file at address ``text`` (for tasks that read a file whole,
    such as data.transform)."""
    return _Downloads(ctx, folder).path(text.strip())


class _Downloads:
    """Local copies of the addresses one attempt reads, each fetched once, of its own namespace only."""

    def __init__(self, ctx: RunContext, cwd: Path) -> None:
        self.ctx, self.folder, self.paths = ctx, cwd / DOWNLOADS, {}

    def path(self, text: str, max_bytes: int | None = None) -> Path:
        """The local copy of the file at ``text``; ``max_bytes``: refuse a larger file before fetching it."""
        if text in self.paths:
            return self.paths[text]
        address = readable(self.ctx, text)
        # The address' key minus its namespace: two addresses never share a local path.
        local = self.folder / address.key.split("/", 1)[1]
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            if max_bytes is not None and (size := self.ctx.storage.size(address)) > max_bytes:
                raise FileTooBig(f"{text} is {size:,} bytes, more than the {max_bytes:,} allowed")
            self.ctx.storage.get(address, local)
        except FileMissing:
            raise TaskFailed(f"{text} does not exist (never written, or deleted with its execution)") from None
        except StorageUnavailable as exc:
            raise TaskFailed(f"{text}: {exc}") from None
        self.paths[text] = local
        return local

    def replace(self, value: T) -> T:
        """``value`` (a text, or a list or map of them) with every address in it replaced by its local copy."""
        if isinstance(value, str):
            if SCHEME not in value:
                return value
            return ADDRESS_PATTERN.sub(lambda match: str(self.path(match.group(0))), value)  # type: ignore[return-value]
        if isinstance(value, list):
            return [self.replace(item) for item in value]  # type: ignore[return-value]
        if isinstance(value, dict):
            return {key: self.replace(item) for key, item in value.items()}  # type: ignore[return-value]
        return value


class FileTooBig(TaskFailed):
    """A file is larger than what the task that reads it accepts."""


def fetch_file(ctx: RunContext, text: str, *, max_bytes: int | None = None) -> Path:
    """A local copy (under the task's working folder) of the file at the ``lanner://`` address ``text``, of the
    task's own namespace; ``max_bytes``: ``FileTooBig`` before fetching a larger file."""
    return _Downloads(ctx, ctx.workdir).path(text, max_bytes)


def stage_inputs(task: T, ctx: RunContext, cwd: Path, fields: tuple[str, ...]) -> T:
    """Write the task's ``inputFiles`` into ``cwd``, and return the task with every address in ``fields``
    (its script, commands, env...) replaced by the path of a local copy."""
    downloads = _Downloads(ctx, cwd)
    for name, value in task.input_files.items():  # type: ignore[attr-defined]
        target = inside(cwd, name, "input file")
        target.parent.mkdir(parents=True, exist_ok=True)
        if value.strip().startswith(SCHEME):  # the whole value is one address (its name may hold spaces)
            target.write_bytes(downloads.path(value.strip()).read_bytes())
        else:
            target.write_text(downloads.replace(value), encoding="utf-8")
    changes = {name: downloads.replace(getattr(task, name)) for name in fields}
    return task.model_copy(update=changes)  # type: ignore[attr-defined]


def _matches(cwd: Path, pattern: str) -> list[str]:
    """Names (relative to ``cwd``) of the files a name or glob pattern gives; a literal name must exist."""
    if not glob.has_magic(pattern):
        inside(cwd, pattern)
        if not (cwd / pattern).is_file():
            raise TaskFailed(f"output file '{pattern}' was not produced")
        return [pattern]
    inside(cwd, pattern.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0] or ".")
    found = glob.glob(pattern, root_dir=cwd, recursive=True, include_hidden=False)
    return sorted(name for name in found if (cwd / name).is_file() and not name.startswith(DOWNLOADS + "/"))


def keep_outputs(task: TaskFiles, ctx: RunContext, cwd: Path) -> dict[str, str]:
    """Upload the files ``outputFiles`` and ``outputDir`` name; their addresses by name."""
    produced: dict[str, Path] = {}
    for pattern in task.output_files:
        for name in _matches(cwd, pattern):
            produced[name] = inside(cwd, name)
    if task.output_dir and (cwd / OUTPUT_DIR).is_dir():
        folder = cwd / OUTPUT_DIR
        for path in sorted(folder.rglob("*")):
            if path.is_file() or path.is_symlink():
                name = path.relative_to(folder).as_posix()
                produced.setdefault(name, inside(folder, name))
    kept: dict[str, Any] = {}
    for name, path in produced.items():
        kept[name] = ctx.store_file(path, name)
    return kept
