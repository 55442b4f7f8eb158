"""Internal storage: the files tasks pass to one another, by address (``lanner://ns/flow/execution/task/attempt/name``).

``address`` names a file and refuses a name that leaves its folder; ``base`` is the one small interface every
backend gives (write once, read by address, delete with an execution); ``local`` keeps files in a folder of this
machine (the default, under ``LANNER_HOME/storage``); ``s3`` in an S3-compatible object store shared by workers.
``open_storage()`` is the backend the settings name.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import load_settings
from engine.storage.address import Address, InvalidAddress
from engine.storage.base import FileExists, FileMissing, Storage, StorageUnavailable, StoredFile
from engine.storage.local import LocalStorage

__all__ = [
    "Address",
    "FileExists",
    "FileMissing",
    "InvalidAddress",
    "Storage",
    "StorageUnavailable",
    "StoredFile",
    "open_storage",
]


def open_storage(url: str | None = None) -> Storage:
    """The backend of ``url`` (by default ``LANNER_STORAGE_URL``, else the folder ``LANNER_HOME/storage``)."""
    settings = load_settings()
    url = url or settings.storage_url
    if not url:
        return LocalStorage(settings.home / "storage")
    if url.startswith("file://"):
        return LocalStorage(Path(url[len("file://") :]))
    if url.startswith("s3://"):
        from engine.storage.s3 import S3Storage  # boto3 is loaded only by a process that uses it

        return S3Storage.from_url(
            url,
            endpoint=settings.storage_endpoint,
            region=settings.storage_region,
            access_key=settings.storage_access_key,
            secret_key=settings.storage_secret_key,
        )
    raise StorageUnavailable(
        f"LANNER_STORAGE_URL '{url}' is not a storage this Lanner knows (file:///folder or s3://bucket/prefix)"
    )
