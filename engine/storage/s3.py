"""Internal storage in an S3-compatible object store (AWS S3, MinIO, Ceph, moto...): workers on different
machines share files through it.

boto3 is used for its transfer manager (large files go up and down in parallel multipart pieces) and because it
is the client every S3-compatible server is tested against. A file is written once: ``put`` sends
``If-None-Match: *`` (the server refuses to replace a key; AWS and recent MinIO/moto honour it) after a ``HEAD``
that refuses early on servers that ignore the header.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from engine.storage.address import Address, execution_prefix, inbox_key
from engine.storage.base import FileExists, FileMissing, InboxFile, StorageUnavailable, StoredFile

MULTIPART_THRESHOLD = 16 * 1024 * 1024  # below it a file is one PUT (checked with If-None-Match at the server)
PART_SIZE = 16 * 1024 * 1024


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _missing(error: ClientError) -> bool:
    return _code(error) in ("404", "NoSuchKey", "NotFound")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` as (bucket, prefix without slashes at either end)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise StorageUnavailable(f"LANNER_STORAGE_URL '{url}' must look like s3://bucket/prefix")
    return parts.netloc, parts.path.strip("/")


class S3Storage:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        self.bucket, self.prefix, self.endpoint = bucket, prefix.strip("/"), endpoint
        # Unset keys and region fall back to boto3's own chain (AWS_* variables, ~/.aws, an instance role).
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path"} if endpoint else None,
                max_pool_connections=32,
            ),
        )
        self.transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=PART_SIZE, max_concurrency=8
        )
        self._checked = False
        self._check_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: str | None) -> S3Storage:
        bucket, prefix = parse_s3_url(url)
        return cls(bucket, prefix, **options)

    def _where(self) -> str:
        return f"bucket '{self.bucket}'" + (f" at {self.endpoint}" if self.endpoint else "")

    def check(self) -> None:
        """Raise ``StorageUnavailable`` naming the setting when the endpoint cannot be reached or has no bucket."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (EndpointConnectionError, BotoCoreError) as exc:
            if isinstance(exc, EndpointConnectionError) or "connect" in str(exc).lower():
                raise StorageUnavailable(
                    f"the object store at {self.endpoint or 'the default AWS endpoint'} cannot be reached "
                    f"(LANNER_STORAGE_ENDPOINT): {exc}"
                ) from None
            raise StorageUnavailable(f"the object store refused {self._where()}: {exc}") from None
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                raise StorageUnavailable(
                    f"{self._where()} does not exist: create it or fix LANNER_STORAGE_URL (s3://bucket/prefix)"
                ) from None
            if _code(exc) in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise StorageUnavailable(
                    f"{self._where()} refused these credentials "
                    "(LANNER_STORAGE_ACCESS_KEY / LANNER_STORAGE_SECRET_KEY, or AWS_* when unset)"
                ) from None
            raise StorageUnavailable(f"{self._where()}: {exc}") from None

    def _ready(self) -> None:
        """Checked once, on first use: a misconfigured store fails with the message above, not a boto3 trace."""
        if self._checked:
            return
        with self._check_lock:
            if not self._checked:
                self.check()
                self._checked = True

    def _key(self, address: Address) -> str:
        return f"{self.prefix}/{address.key}" if self.prefix else address.key

    def _execution_prefix(self, namespace: str, flow_id: str, execution_id: str) -> str:
        folder = execution_prefix(namespace, flow_id, execution_id)
        return f"{self.prefix}/{folder}" if self.prefix else folder

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if _missing(exc):
                return False
            raise

    def put(self, address: Address, source: Path) -> StoredFile:
        self._ready()
        return StoredFile(address, self._put_once(self._key(address), source, str(address)))

    def _put_once(self, key: str, source: Path, what: str) -> int:
        size = source.stat().st_size
        if self._exists(key):
            raise FileExists(f"{what} was already written")
        try:
            if size < MULTIPART_THRESHOLD:
                with source.open("rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*")
            else:
                self.client.upload_file(str(source), self.bucket, key, Config=self.transfer)
        except ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                raise FileExists(f"{what} was already written") from None
            raise
        return size

    def get(self, address: Address, target: Path) -> None:
        self._ready()
        self._download(self._key(address), target, f"no file at {address}")

    def _download(self, key: str, target: Path, missing: str) -> None:
        try:
            self.client.download_file(self.bucket, key, str(target), Config=self.transfer)
        except ClientError as exc:
            if _missing(exc):
                raise FileMissing(missing) from None
            raise

    def size(self, address: Address) -> int:
        self._ready()
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(address))["ContentLength"])
        except ClientError as exc:
            if _missing(exc):
                raise FileMissing(f"no file at {address}") from None
            raise

    def read(self, address: Address, start: int = 0, end: int | None = None) -> bytes:
        return b"".join(self.chunks(address, start, end))

    def chunks(self, address: Address, start: int = 0, end: int | None = None, size: int = 1 << 20) -> Iterator[bytes]:
        self._ready()
        if end is not None and end <= start:
            self.size(address)  # still FileMissing for a missing file
            return
        options = {}
        if start or end is not None:
            options["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(address), **options)
        except ClientError as exc:
            if _missing(exc):
                raise FileMissing(f"no file at {address}") from None
            if _code(exc) in ("InvalidRange", "416"):  # a start past the end: no bytes, as a local file gives
                return
            raise
        body = response["Body"]
        try:
            yield from body.iter_chunks(size)
        finally:
            body.close()

    def _objects(self, prefix: str) -> Iterator[dict]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def files(self, namespace: str, flow_id: str, execution_id: str) -> list[StoredFile]:
        self._ready()
        prefix = self._execution_prefix(namespace, flow_id, execution_id)
        found = []
        for item in self._objects(prefix):
            task_id, attempt, name = item["Key"][len(prefix) :].split("/", 2)
            address = Address(namespace, flow_id, execution_id, task_id, int(attempt), name)
            found.append(StoredFile(address, int(item["Size"])))
        return sorted(found, key=lambda stored: stored.address.key)

    def delete_execution(self, namespace: str, flow_id: str, execution_id: str) -> int:
        self._ready()
        keys = [item["Key"] for item in self._objects(self._execution_prefix(namespace, flow_id, execution_id))]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def _inbox(self, namespace: str, name: str = "") -> str:
        key = inbox_key(namespace, name)
        return f"{self.prefix}/{key}" if self.prefix else key

    def inbox_files(self, namespace: str, folder: str = "") -> list[InboxFile]:
        self._ready()
        top = self._inbox(namespace)
        prefix = self._inbox(namespace, folder).rstrip("/") + "/" if folder else top
        return [
            InboxFile(item["Key"][len(top) :], int(item["Size"]), item["LastModified"].timestamp())
            for item in self._objects(prefix)
            if not item["Key"].endswith("/")  # a "folder" some S3 consoles make
        ]

    def inbox_put(self, namespace: str, name: str, source: Path) -> InboxFile:
        self._ready()
        key = self._inbox(namespace, name)
        size = self._put_once(key, source, f"inbox file {name}")
        modified = self.client.head_object(Bucket=self.bucket, Key=key)["LastModified"].timestamp()
        return InboxFile(name, size, modified)

    def inbox_get(self, namespace: str, name: str, target: Path) -> None:
        self._ready()
        self._download(self._inbox(namespace, name), target, f"no file {name} in the inbox of {namespace}")

    def inbox_move(self, namespace: str, name: str, new_name: str) -> None:
        self._ready()
        source, target = self._inbox(namespace, name), self._inbox(namespace, new_name)
        if self._exists(target):
            raise FileExists(f"inbox file {new_name} was already written")
        try:  # S3 has no rename: a server-side copy, then the original deleted
            self.client.copy(CopySource={"Bucket": self.bucket, "Key": source}, Bucket=self.bucket, Key=target,
                             Config=self.transfer)  # fmt: skip
        except ClientError as exc:
            if _missing(exc):
                raise FileMissing(f"no file {name} in the inbox of {namespace}") from None
            raise
        self.client.delete_object(Bucket=self.bucket, Key=source)

    def inbox_delete(self, namespace: str, name: str) -> bool:
        self._ready()
        key = self._inbox(namespace, name)
        if not self._exists(key):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True
