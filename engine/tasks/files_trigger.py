"""Triggers on arriving files, checked every ``interval``: ``file.trigger`` watches a folder the listener's machine
sees (a local disk, a network share); ``storage.trigger`` watches the flow's namespace's inbox in internal storage
(the storage folder, or the S3 bucket every worker shares), where files come through the API or any S3 client.

A file is taken once it has not changed for ``stableFor``, copied into internal storage for the execution
(``trigger.uri``), and only once the execution is committed moved into ``.lanner-done/`` beside it (or deleted, or
left). Its fingerprint (where, name, size, modification time) is the fire's key: a file seen again before it was
moved (the listener died between the two) starts nothing new.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, ClassVar, Literal, Protocol

from pydantic import Field, field_validator

from engine.core.durations import Duration
from engine.flows.triggers import PollingTrigger, trigger_types
from engine.messaging.base import BrokerUnavailable, Message, Poller
from engine.storage import FileExists, FileMissing, InvalidAddress, StorageUnavailable, open_storage
from engine.storage.address import check_name

DONE_FOLDER = ".lanner-done"
Keep = Callable[[Path], str]  # stores a local file for the execution, gives its lanner:// address


class AfterFile(StrEnum):
    MOVE = "move"
    DELETE = "delete"
    NONE = "none"


@dataclass(frozen=True)
class Arrival:
    name: str  # its path inside what is watched
    size: int
    modified: float


class DropArea(Protocol):
    """Where files arrive: a folder of this machine, or a namespace's inbox in internal storage."""

    def where(self) -> str: ...

    def listing(self, pattern: str) -> list[Arrival]:
        """The files matching ``pattern`` (``BrokerUnavailable`` when the place cannot be read)."""
        ...

    def shown(self, arrival: Arrival) -> dict[str, Any]: ...

    def kept(self, arrival: Arrival, keep: Keep) -> str: ...

    def done(self, arrival: Arrival, after: AfterFile) -> None: ...


def _done_name(name: str) -> str:
    path = PurePosixPath(name)
    return str(path.parent / DONE_FOLDER / path.name)  # a top-level file's parent "." drops out


class Folder:
    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def where(self) -> str:
        return str(self.folder)

    def listing(self, pattern: str) -> list[Arrival]:
        if not self.folder.is_dir():
            raise BrokerUnavailable(f"folder {self.folder} does not exist (or is not a folder)")
        found = []
        for path in sorted(self.folder.glob(pattern)):
            try:
                stat = path.stat()
            except FileNotFoundError:  # taken away since the listing
                continue
            if path.is_file() and DONE_FOLDER not in path.parts:
                found.append(Arrival(path.relative_to(self.folder).as_posix(), stat.st_size, stat.st_mtime))
        return found

    def shown(self, arrival: Arrival) -> dict[str, Any]:
        path = self.folder / arrival.name
        return {"name": path.name, "path": str(path), "size": arrival.size}

    def kept(self, arrival: Arrival, keep: Keep) -> str:
        return keep(self.folder / arrival.name)

    def done(self, arrival: Arrival, after: AfterFile) -> None:
        path = self.folder / arrival.name
        if after == AfterFile.DELETE:
            path.unlink(missing_ok=True)
        elif after == AfterFile.MOVE:
            done = self.folder / DONE_FOLDER
            done.mkdir(exist_ok=True)
            target = done / path.name
            if target.exists():
                target = done / f"{path.stem}.{time.time_ns()}{path.suffix}"
            shutil.move(str(path), target)


def matches(name: str, pattern: str) -> bool:
    """Whether the path ``name`` matches the glob ``pattern`` part by part (``*`` stays inside a folder, ``**``
    spans any number of them), as ``Path.glob`` reads it."""
    names, patterns = name.split("/"), pattern.split("/")

    def walk(n: int, p: int) -> bool:
        if p == len(patterns):
            return n == len(names)
        if patterns[p] == "**":
            return any(walk(k, p + 1) for k in range(n, len(names) + 1))
        return n < len(names) and fnmatch.fnmatchcase(names[n], patterns[p]) and walk(n + 1, p + 1)

    return walk(0, 0)


class Inbox:
    def __init__(self, namespace: str, folder: str) -> None:
        self.namespace, self.folder = namespace, folder.strip("/")

    def where(self) -> str:
        return f"the inbox of {self.namespace}" + (f", folder {self.folder}" if self.folder else "")

    def listing(self, pattern: str) -> list[Arrival]:
        try:
            files = open_storage().inbox_files(self.namespace, self.folder)
        except StorageUnavailable as exc:
            raise BrokerUnavailable(str(exc)) from None
        top = f"{self.folder}/" if self.folder else ""
        return [
            Arrival(file.name, file.size, file.modified)
            for file in files
            if DONE_FOLDER not in file.name.split("/") and matches(file.name[len(top) :], pattern)
        ]

    def shown(self, arrival: Arrival) -> dict[str, Any]:
        return {"name": PurePosixPath(arrival.name).name, "path": arrival.name, "size": arrival.size}

    def kept(self, arrival: Arrival, keep: Keep) -> str:
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / PurePosixPath(arrival.name).name
            open_storage().inbox_get(self.namespace, arrival.name, local)
            return keep(local)

    def done(self, arrival: Arrival, after: AfterFile) -> None:
        storage = open_storage()
        if after == AfterFile.DELETE:
            storage.inbox_delete(self.namespace, arrival.name)
        elif after == AfterFile.MOVE:
            target = _done_name(arrival.name)
            try:
                storage.inbox_move(self.namespace, arrival.name, target)
            except FileExists:  # the same name came and went before
                path = PurePosixPath(target)
                storage.inbox_move(self.namespace, arrival.name, str(path.with_stem(f"{path.stem}.{time.time_ns()}")))
            except FileMissing:  # moved by a listener that died before acknowledging
                pass


class Arrived(Message):
    """A file that arrived, as the execution reads it: trigger.name, size, path (and uri, once copied)."""

    def as_output(self) -> dict[str, Any]:
        return dict(self.properties)


class ArrivalPoll(Poller):
    def __init__(self, trigger: _ArrivalTrigger, area: DropArea) -> None:
        super().__init__(trigger.interval.total_seconds())
        self.trigger, self.area = trigger, area
        self._ready: list[Arrival] = []
        self._handled: set[str] = set()  # fingerprints of files started (kept: after none leaves them in place)

    def poll(self) -> Message | None:
        if not self._ready:
            quiet_since = time.time() - self.trigger.stable_for.total_seconds()
            # Unchanged for stableFor: a writer pausing for less is not caught half-way.
            settled = [a for a in self.area.listing(self.trigger.pattern) if a.modified <= quiet_since]
            self._ready = settled[: self.trigger.max_files]
        while self._ready:
            arrival = self._ready.pop(0)
            seen = f"{self.area.where()}\n{arrival.name}\n{arrival.size}\n{arrival.modified}"
            fingerprint = hashlib.sha256(seen.encode()).hexdigest()
            if fingerprint not in self._handled:
                return Arrived(body=b"", topic=self.area.where(), message_id=f"file:{fingerprint}",
                               properties=self.area.shown(arrival), receipt=(self.area, arrival))  # fmt: skip
        return None

    def receive(self, timeout: float) -> Message | None:
        if self._ready:  # files already found go without waiting for the next interval
            return self.poll()
        return super().receive(timeout)

    def ack(self, message: Message) -> None:
        self._handled.add(message.message_id.removeprefix("file:"))
        with contextlib.suppress(FileNotFoundError):  # taken away by someone else meanwhile
            self.area.done(message.receipt[1], self.trigger.after)


class _ArrivalTrigger(PollingTrigger):
    pattern: str = "*"
    """Which files, e.g. *.csv (** for sub-folders: **/*.csv)."""
    after: AfterFile = AfterFile.MOVE
    """What to do with a file once its execution started: move it into .lanner-done/ beside it, delete it, or none
    (leave it: it is recognised and not started again while unchanged)."""
    max_files: Annotated[int, Field(ge=1, le=10_000)] = 100
    """Most files taken at one look."""
    stable_for: Duration = dt.timedelta(seconds=5)
    """A file is taken once it has not changed for this long (still being written otherwise)."""

    rendered_later: ClassVar[frozenset[str]] = frozenset({"inputs"})

    def area(self, namespace: str) -> DropArea:
        raise NotImplementedError

    def subscribe(self, name: str, consumer: str, namespace: str) -> ArrivalPoll:
        return ArrivalPoll(self, self.area(namespace))

    def details(self, batch: list[Any], keep: Any) -> dict[str, Any]:
        message = batch[0]
        area, arrival = message.receipt
        return {**message.as_output(), "uri": area.kept(arrival, keep)}


@trigger_types.register
class FileTrigger(_ArrivalTrigger):
    """Start the flow for each file that arrives in a folder."""

    type: Literal["file.trigger"]
    folder: Annotated[str, Field(min_length=1)]
    """The folder to watch, as the trigger listener's machine sees it, e.g. /data/incoming."""

    def area(self, namespace: str) -> DropArea:
        return Folder(self.folder)

    def where(self) -> str:
        return f"{self.pattern} in {self.folder}"


@trigger_types.register
class StorageTrigger(_ArrivalTrigger):
    """Start the flow for each file that arrives in its namespace's inbox in internal storage."""

    type: Literal["storage.trigger"]
    folder: str = ""
    """A folder inside the namespace's inbox to watch, e.g. orders (empty: the whole inbox)."""
    stable_for: Duration = dt.timedelta(0)
    """A file is taken once it has not changed for this long (a file uploaded through the API or S3 appears
    whole: none is needed unless something writes into the storage folder directly)."""

    @field_validator("folder")
    @classmethod
    def _inside_the_inbox(cls, value: str) -> str:
        if value.strip("/"):
            try:
                check_name(value.strip("/"))
            except InvalidAddress:
                raise ValueError(f"'{value}' must be a folder inside the namespace's inbox (no '..')") from None
        return value

    def area(self, namespace: str) -> DropArea:
        return Inbox(namespace, self.folder)

    def where(self) -> str:
        return f"{self.pattern} in the namespace's inbox" + (f" folder {self.folder}" if self.folder.strip("/") else "")
