"""``file.trigger``: start the flow for each file that arrives in a folder (a drop folder the listener's machine
sees: a local disk, a network share), checked every ``interval``.

A file is taken once it has not changed for ``stableFor`` (5 s), copied into internal storage for the
execution (``trigger.uri``), and only once the execution is committed moved into ``<folder>/.lanner-done/`` (or
deleted, or left). Its fingerprint (name, size, modification time) is the fire's key: a file seen again before it
was moved (the listener died between the two) starts nothing new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from engine.core.durations import Duration
from engine.flows.triggers import PollingTrigger, trigger_types
from engine.messaging.base import BrokerUnavailable, Message, Poller

DONE_FOLDER = ".lanner-done"


class AfterFile(StrEnum):
    MOVE = "move"
    DELETE = "delete"
    NONE = "none"


class Arrived(Message):
    """A file that arrived, as the execution reads it: trigger.name, size, path (and uri, once copied)."""

    def as_output(self) -> dict[str, Any]:
        return dict(self.properties)


class FolderPoll(Poller):
    def __init__(self, trigger: FileTrigger) -> None:
        super().__init__(trigger.interval.total_seconds())
        self.trigger, self.folder = trigger, Path(trigger.folder)
        self._ready: list[Path] = []
        self._handled: set[str] = set()  # fingerprints of files started (kept: after none leaves them in place)

    def poll(self) -> Message | None:
        if not self._ready:
            self._ready = self._settled()
        if not self._ready:
            return None
        path = self._ready.pop(0)
        try:
            stat = path.stat()
        except FileNotFoundError:  # taken away since the look
            return None
        fingerprint = hashlib.sha256(f"{path}\n{stat.st_size}\n{stat.st_mtime_ns}".encode()).hexdigest()
        if fingerprint in self._handled:
            return None
        shown = {"name": path.name, "path": str(path), "size": stat.st_size}
        return Arrived(body=b"", topic=str(self.folder), message_id=f"file:{fingerprint}", properties=shown,
                       receipt=path)  # fmt: skip

    def receive(self, timeout: float) -> Message | None:
        if self._ready:  # files already found go without waiting for the next interval
            return self.poll()
        return super().receive(timeout)

    def _settled(self) -> list[Path]:
        """Files unchanged for ``stableFor`` (their modification time that old): a writer pausing for less is not
        caught half-way."""
        if not self.folder.is_dir():
            raise BrokerUnavailable(f"folder {self.folder} does not exist (or is not a folder)")
        quiet_since = time.time() - self.trigger.stable_for.total_seconds()
        found = []
        for path in sorted(self.folder.glob(self.trigger.pattern)):
            if path.is_file() and DONE_FOLDER not in path.parts and path.stat().st_mtime <= quiet_since:
                found.append(path)
        return found[: self.trigger.max_files]

    def ack(self, message: Message) -> None:
        path: Path = message.receipt
        self._handled.add(message.message_id.removeprefix("file:"))
        if self.trigger.after == AfterFile.DELETE:
            path.unlink(missing_ok=True)
        elif self.trigger.after == AfterFile.MOVE:
            done = self.folder / DONE_FOLDER
            done.mkdir(exist_ok=True)
            target = done / path.name
            if target.exists():
                target = done / f"{path.stem}.{time.time_ns()}{path.suffix}"
            shutil.move(str(path), target)


@trigger_types.register
class FileTrigger(PollingTrigger):
    """Start the flow for each file that arrives in a folder."""

    type: Literal["file.trigger"]
    folder: Annotated[str, Field(min_length=1)]
    """The folder to watch, as the trigger listener's machine sees it, e.g. /data/incoming."""
    pattern: str = "*"
    """Which files, e.g. *.csv (** for sub-folders: **/*.csv)."""
    after: AfterFile = AfterFile.MOVE
    """What to do with a file once its execution started: move it into .lanner-done/ in the folder, delete it,
    or none (leave it: it is recognised and not started again while unchanged)."""
    max_files: Annotated[int, Field(ge=1, le=10_000)] = 100
    """Most files taken at one look."""
    stable_for: Duration = dt.timedelta(seconds=5)
    """A file is taken once it has not changed for this long (still being written otherwise)."""

    rendered_later: ClassVar[frozenset[str]] = frozenset({"inputs"})

    def subscribe(self, name: str, consumer: str) -> FolderPoll:
        return FolderPoll(self)

    def where(self) -> str:
        return f"{self.pattern} in {self.folder}"

    def details(self, batch: list[Any], keep: Any) -> dict[str, Any]:
        message = batch[0]
        path: Path = message.receipt
        return {**message.as_output(), "uri": keep(path)}  # the file itself, copied into internal storage
