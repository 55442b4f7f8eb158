"""Internal storage: the files tasks pass to one another, by address (``lanner://ns/flow/execution/task/attempt/name``).

``address`` names a file and refuses a name that leaves its folder; ``base`` is the one small interface every
backend gives (write once, read by address, delete with an execution); ``local`` keeps files in a folder of this
machine (the default, under ``LANNER_HOME/storage``). ``open_storage()`` is the backend the settings name.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import load_settings
from engine.storage.address import Address, InvalidAddress
from engine.storage.base import FileExists, FileMissing, Storage, StoredFile
from engine.storage.local import LocalStorage

__all__ = ["Address", "FileExists", "FileMissing", "InvalidAddress", "Storage", "StoredFile", "open_storage"]


def open_storage(url: str | None = None) -> Storage:
    """The backend of ``url`` (by default ``LANNER_STORAGE_URL``, else the folder ``LANNER_HOME/storage``)."""
    settings = load_settings()
    url = url or settings.storage_url
    if not url:
        return LocalStorage(settings.home / "storage")
    if url.startswith("file://"):
        return LocalStorage(Path(url[len("file://") :]))
    raise ValueError(f"LANNER_STORAGE_URL '{url}' is not a storage this Lanner knows (file:///folder)")
