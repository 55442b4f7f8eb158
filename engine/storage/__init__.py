"""Internal storage: the files tasks pass to one another, by address (``lanner://ns/flow/execution/task/attempt/name``).

``address`` names a file and refuses a name that leaves its folder; ``base`` is the one small interface every
backend gives (write once, read by address, delete with an execution); ``local`` keeps files in a folder of this
machine (the default, under ``LANNER_HOME/storage``); ``s3`` in an S3-compatible object store shared by workers.
``open_storage()`` is the backend the settings name.
"""

from __future__ import annotations

import functools
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
    """The backend of ``url`` (by default ``LANNER_STORAGE_URL``, else the folder ``LANNER_HOME/storage``); one per
    process and setting, so a request or a task run does not build a new S3 client each time."""
    settings = load_settings()
    return _opened(
        url or settings.storage_url,
        settings.home,
        settings.storage_endpoint,
        settings.storage_region,
        settings.storage_access_key,
        settings.storage_secret_key,
    )


@functools.lru_cache(maxsize=8)
def _opened(
    url: str | None,
    home: Path,
    endpoint: str | None,
    region: str | None,
    access_key: str | None,
    secret_key: str | None,
) -> Storage:
    if not url:
        return LocalStorage(home / "storage")
    if url.startswith("file://"):
        return LocalStorage(Path(url[len("file://") :]))
    if url.startswith("s3://"):
        from engine.storage.s3 import S3Storage  # boto3 is loaded only by a process that uses it

        return S3Storage.from_url(url, endpoint=endpoint, region=region, access_key=access_key, secret_key=secret_key)
    raise StorageUnavailable(
        f"LANNER_STORAGE_URL '{url}' is not a storage this Lanner knows (file:///folder or s3://bucket/prefix)"
    )
