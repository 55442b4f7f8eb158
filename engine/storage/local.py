"""Internal storage in a folder of this machine: the default, for one machine (or a folder every worker mounts)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from engine.storage.address import Address, execution_prefix, inbox_key
from engine.storage.base import FileExists, FileMissing, InboxFile, StoredFile

PART_PREFIX = ".part-"  # a file being written, not yet linked under its name


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, address: Address) -> Path:
        return self.root / address.key  # Address refused every name that could leave its folder

    def put(self, address: Address, source: Path) -> StoredFile:
        target = self._path(address)
        self._write_once(target, source, str(address))
        return StoredFile(address, target.stat().st_size)

    @staticmethod
    def _write_once(target: Path, source: Path, what: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name, then linked into place: a reader never sees half a file, and of two
        # writers of one address the second is refused.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=PART_PREFIX)
        os.close(handle)
        try:
            shutil.copyfile(source, temporary)
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise FileExists(f"{what} was already written") from None
        finally:
            os.unlink(temporary)

    def get(self, address: Address, target: Path) -> None:
        try:
            shutil.copyfile(self._path(address), target)
        except FileNotFoundError:
            raise FileMissing(f"no file at {address}") from None

    def size(self, address: Address) -> int:
        try:
            return self._path(address).stat().st_size
        except FileNotFoundError:
            raise FileMissing(f"no file at {address}") from None

    def read(self, address: Address, start: int = 0, end: int | None = None) -> bytes:
        return b"".join(self.chunks(address, start, end))

    def chunks(self, address: Address, start: int = 0, end: int | None = None, size: int = 1 << 20) -> Iterator[bytes]:
        try:
            handle = self._path(address).open("rb")
        except FileNotFoundError:
            raise FileMissing(f"no file at {address}") from None
        with handle:
            handle.seek(start)
            left = None if end is None else max(end - start, 0)
            while left is None or left > 0:
                piece = handle.read(size if left is None else min(size, left))
                if not piece:
                    return
                if left is not None:
                    left -= len(piece)
                yield piece

    def files(self, namespace: str, flow_id: str, execution_id: str) -> list[StoredFile]:
        folder = self.root / execution_prefix(namespace, flow_id, execution_id)
        found = []
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith(PART_PREFIX):
                task_id, attempt, *name = path.relative_to(folder).parts
                address = Address(namespace, flow_id, execution_id, task_id, int(attempt), "/".join(name))
                found.append(StoredFile(address, path.stat().st_size))
        return found

    def delete_execution(self, namespace: str, flow_id: str, execution_id: str) -> int:
        count = len(self.files(namespace, flow_id, execution_id))
        shutil.rmtree(self.root / execution_prefix(namespace, flow_id, execution_id), ignore_errors=True)
        return count

    def _inbox(self, namespace: str, name: str = "") -> Path:
        return self.root / inbox_key(namespace, name)  # inbox_key refused every name that could leave its folder

    def inbox_files(self, namespace: str, folder: str = "") -> list[InboxFile]:
        top, found = self._inbox(namespace), []
        for path in sorted(self._inbox(namespace, folder).rglob("*")):
            if path.name.startswith(PART_PREFIX):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # taken away since the listing
                continue
            if path.is_file():
                found.append(InboxFile(path.relative_to(top).as_posix(), stat.st_size, stat.st_mtime))
        return found

    def inbox_put(self, namespace: str, name: str, source: Path) -> InboxFile:
        target = self._inbox(namespace, name)
        self._write_once(target, source, f"inbox file {name}")
        stat = target.stat()
        return InboxFile(name, stat.st_size, stat.st_mtime)

    def inbox_get(self, namespace: str, name: str, target: Path) -> None:
        try:
            shutil.copyfile(self._inbox(namespace, name), target)
        except (FileNotFoundError, IsADirectoryError):
            raise FileMissing(f"no file {name} in the inbox of {namespace}") from None

    def inbox_move(self, namespace: str, name: str, new_name: str) -> None:
        source, target = self._inbox(namespace, name), self._inbox(namespace, new_name)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)  # not rename: it would replace a file already named so
        except FileNotFoundError:
            raise FileMissing(f"no file {name} in the inbox of {namespace}") from None
        except FileExistsError:
            raise FileExists(f"inbox file {new_name} was already written") from None
        source.unlink()

    def inbox_delete(self, namespace: str, name: str) -> bool:
        try:
            self._inbox(namespace, name).unlink()
            return True
        except (FileNotFoundError, IsADirectoryError):
            return False
