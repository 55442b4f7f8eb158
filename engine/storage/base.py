"""The one interface of internal storage: every backend gives these methods."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from engine.storage.address import Address


class FileMissing(LookupError):
    """No file at that address (never written, or deleted with its execution)."""


class FileExists(RuntimeError):
    """A file is written once: a second write to the same address is refused."""


class StorageUnavailable(ValueError):
    """The storage cannot be used as configured (an endpoint that does not answer, a missing bucket, refused
    credentials, an unknown LANNER_STORAGE_URL): the message names the setting to fix."""


@dataclass(frozen=True)
class StoredFile:
    address: Address
    size: int


@dataclass(frozen=True)
class InboxFile:
    """A file in a namespace's inbox: ``name`` is its path there (``orders/2026-11-30.csv``); ``modified`` is
    when it was written (seconds since the epoch)."""

    name: str
    size: int
    modified: float


class Storage(Protocol):
    """Files written once, read by address, deleted with their execution."""

    def put(self, address: Address, source: Path) -> StoredFile:
        """Copy the local file ``source`` to ``address`` (``FileExists`` if one is there)."""
        ...

    def get(self, address: Address, target: Path) -> None:
        """Copy the file at ``address`` to the local path ``target`` (``FileMissing`` if none)."""
        ...

    def size(self, address: Address) -> int:
        """The file's size in bytes (``FileMissing`` if none)."""
        ...

    def read(self, address: Address, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive; None: to the end) of the file (``FileMissing`` if none)."""
        ...

    def chunks(self, address: Address, start: int = 0, end: int | None = None, size: int = 1 << 20) -> Iterator[bytes]:
        """The same bytes as ``read``, in pieces of at most ``size`` bytes (to stream a download)."""
        ...

    def files(self, namespace: str, flow_id: str, execution_id: str) -> list[StoredFile]:
        """Every file of one execution, by key."""
        ...

    def delete_execution(self, namespace: str, flow_id: str, execution_id: str) -> int:
        """Delete every file of one execution; returns how many there were."""
        ...

    # A namespace's inbox: files people or other systems drop (the API, any S3 client) for a storage.trigger.
    def inbox_files(self, namespace: str, folder: str = "") -> list[InboxFile]:
        """Every file under ``folder`` of the namespace's inbox (its sub-folders too), by name."""
        ...

    def inbox_put(self, namespace: str, name: str, source: Path) -> InboxFile:
        """Copy the local file ``source`` into the inbox as ``name`` (``FileExists`` if one is there)."""
        ...

    def inbox_get(self, namespace: str, name: str, target: Path) -> None:
        """Copy the inbox file ``name`` to the local path ``target`` (``FileMissing`` if none)."""
        ...

    def inbox_move(self, namespace: str, name: str, new_name: str) -> None:
        """Rename an inbox file (``FileMissing`` if none; ``FileExists`` if ``new_name`` is taken)."""
        ...

    def inbox_delete(self, namespace: str, name: str) -> bool:
        """Delete an inbox file; whether there was one."""
        ...


class UnusableStorage:
    """Stands for a storage the settings name but that cannot be opened: a task that keeps or reads a file fails
    with the reason, the others run (a worker does not stop over a storage setting)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def __getattr__(self, name: str):
        raise StorageUnavailable(self.problem)
