"""The S3 backend against a real moto_server: large files in multipart pieces, the settings that open it, and
clear messages naming the setting when the endpoint does not answer or the bucket does not exist."""

from __future__ import annotations

import os
import uuid

import pytest

from engine.storage import Address, FileExists, StorageUnavailable, open_storage
from engine.storage.s3 import MULTIPART_THRESHOLD, S3Storage
from tests.support.ports import free_port


def test_a_file_larger_than_one_part_goes_up_and_down_in_pieces_and_is_still_written_once(s3_server, tmp_path):
    storage = s3_server.storage(prefix=f"big-{uuid.uuid4().hex[:8]}")
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(1024) * (MULTIPART_THRESHOLD // 1024 + 100))
    address = Address("acme", "daily", "e1", "extract", 1, "big.bin")
    assert storage.put(address, source).size == source.stat().st_size == storage.size(address)
    copy = tmp_path / "copy.bin"
    storage.get(address, copy)
    assert copy.read_bytes() == source.read_bytes()
    assert (
        storage.read(address, MULTIPART_THRESHOLD - 5, MULTIPART_THRESHOLD + 5)
        == source.read_bytes()[MULTIPART_THRESHOLD - 5 : MULTIPART_THRESHOLD + 5]
    )
    with pytest.raises(FileExists):
        storage.put(address, source)


def test_the_settings_open_the_s3_backend(s3_server, monkeypatch, tmp_path):
    for name, value in s3_server.env(prefix="from-settings").items():
        monkeypatch.setenv(name, value)
    storage = open_storage()
    assert isinstance(storage, S3Storage) and (storage.bucket, storage.prefix) == (s3_server.bucket, "from-settings")
    source = tmp_path / "a.txt"
    source.write_text("hello")
    storage.put(Address("acme", "daily", "e2", "t", 1, "a.txt"), source)
    assert s3_server.storage(prefix="from-settings").read(Address("acme", "daily", "e2", "t", 1, "a.txt")) == b"hello"


def test_a_missing_bucket_names_the_setting(s3_server, tmp_path):
    storage = S3Storage(
        "no-such-bucket", "", endpoint=s3_server.endpoint, region="us-east-1", access_key="k", secret_key="s"
    )
    with pytest.raises(StorageUnavailable, match=r"bucket 'no-such-bucket'.*does not exist.*LANNER_STORAGE_URL"):
        storage.size(Address("acme", "daily", "e", "t", 1, "x"))


def test_an_endpoint_that_does_not_answer_names_the_setting():
    storage = S3Storage(
        "b", "", endpoint=f"http://127.0.0.1:{free_port()}", region="us-east-1", access_key="k", secret_key="s"
    )
    with pytest.raises(StorageUnavailable, match=r"cannot be reached.*LANNER_STORAGE_ENDPOINT"):
        storage.files("acme", "daily", "e")


def test_a_url_that_is_no_bucket_is_refused():
    with pytest.raises(StorageUnavailable, match="s3://bucket/prefix"):
        open_storage("s3:///nothing")
