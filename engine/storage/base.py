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


@dataclass(frozen=True)
class StoredFile:
    address: Address
    size: int


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
