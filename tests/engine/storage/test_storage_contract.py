"""The contract every backend of internal storage keeps (local folder, S3-compatible store on a real moto_server):
write once, read by address (whole, by range, in chunks), delete with its execution; an address whose name would
leave its folder is refused before any file is touched."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from engine.storage import Address, FileExists, FileMissing, InvalidAddress, Storage, open_storage
from engine.storage.local import LocalStorage

EXECUTION = ("acme.sales", "daily", "7f3a")


def _address(name: str, task: str = "extract", attempt: int = 1) -> Address:
    return Address(*EXECUTION, task, attempt, name)


def test_an_address_reads_back_as_it_was_written():
    address = Address.parse("lanner://acme.sales/daily/7f3a/extract/1/reports/day 1.csv")
    assert address == _address("reports/day 1.csv")
    assert str(address) == "lanner://acme.sales/daily/7f3a/extract/1/reports/day 1.csv"


@pytest.mark.parametrize(
    "text",
    [
        "lanner://acme/daily/7f3a/extract/1/../../other/x",
        "lanner://acme/daily/7f3a/extract/1/a//b",
        "lanner://acme/daily/7f3a/extract/1/",
        "lanner://acme/daily/7f3a/extract/x/f",
        "lanner://../daily/7f3a/extract/1/f",
        "lanner://acme/daily/7f3a/extract",
        "s3://bucket/key",
        "/etc/passwd",
    ],
)
def test_a_name_that_leaves_its_folder_or_a_foreign_text_is_refused(text):
    with pytest.raises(InvalidAddress):
        Address.parse(text)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path) -> Storage:
    """Each backend, empty: a fresh folder, or a fresh prefix in the session's moto_server bucket."""
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    return request.getfixturevalue("s3_server").storage(prefix=f"test-{uuid.uuid4().hex[:8]}")


def test_a_file_is_written_once_and_read_whole_by_range_and_in_chunks(storage, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(bytes(range(256)) * 40)
    stored = storage.put(_address("data.bin"), source)
    assert stored.size == 10240 == storage.size(_address("data.bin"))
    assert storage.read(_address("data.bin")) == source.read_bytes()
    assert storage.read(_address("data.bin"), 10, 20) == source.read_bytes()[10:20]
    assert b"".join(storage.chunks(_address("data.bin"), 5, None, size=1000)) == source.read_bytes()[5:]
    copy = tmp_path / "out.bin"
    storage.get(_address("data.bin"), copy)
    assert copy.read_bytes() == source.read_bytes()
    assert storage.read(_address("data.bin"), 10_000, 20_000) == source.read_bytes()[10_000:]
    assert storage.read(_address("data.bin"), 20_000) == b""
    with pytest.raises(FileExists):
        storage.put(_address("data.bin"), source)
    for method in (storage.size, storage.read):
        with pytest.raises(FileMissing):
            method(_address("never.bin"))
    with pytest.raises(FileMissing):
        storage.get(_address("never.bin"), tmp_path / "never.bin")


def test_of_two_writers_of_one_address_exactly_one_wins(storage, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("x" * 100_000)
    outcomes: list[str] = []

    def write() -> None:
        try:
            storage.put(_address("race.txt"), source)
            outcomes.append("written")
        except FileExists:
            outcomes.append("refused")

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["written"]
    assert storage.read(_address("race.txt")) == source.read_bytes()


def test_the_files_of_an_execution_are_listed_and_deleted_together(storage, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("rows")
    storage.put(_address("a.csv"), source)
    storage.put(_address("sub/b.csv", task="transform", attempt=2), source)
    other = Address("acme.sales", "daily", "other", "extract", 1, "a.csv")
    storage.put(other, source)
    assert [str(f.address) for f in storage.files(*EXECUTION)] == [
        "lanner://acme.sales/daily/7f3a/extract/1/a.csv",
        "lanner://acme.sales/daily/7f3a/transform/2/sub/b.csv",
    ]
    assert storage.delete_execution(*EXECUTION) == 2
    assert storage.files(*EXECUTION) == []
    with pytest.raises(FileMissing):
        storage.read(_address("a.csv"))
    assert storage.read(other) == b"rows"  # another execution keeps its files


def test_the_default_storage_is_a_folder_under_lanner_home(tmp_path, monkeypatch):
    from engine.config import reset_settings

    monkeypatch.setenv("LANNER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LANNER_STORAGE_URL", raising=False)
    reset_settings()
    try:
        storage = open_storage()
        assert isinstance(storage, LocalStorage) and storage.root == (tmp_path / "home" / "storage").resolve()
        with pytest.raises(ValueError, match="not a storage"):
            open_storage("ftp://nowhere")
    finally:
        reset_settings()


def test_a_namespace_inbox_lists_gets_moves_and_deletes_its_files(storage, tmp_path):
    source = tmp_path / "day.csv"
    source.write_text("id,amount\n1,10\n")
    before = time.time() - 5  # the object store's clock and ours may differ a little
    added = storage.inbox_put("acme.sales", "orders/day.csv", source)
    storage.inbox_put("acme.sales", "top.csv", source)
    storage.inbox_put("globex", "orders/theirs.csv", source)
    assert added.name == "orders/day.csv" and added.size == 15 and added.modified >= before
    assert [f.name for f in storage.inbox_files("acme.sales")] == ["orders/day.csv", "top.csv"]
    assert [f.name for f in storage.inbox_files("acme.sales", "orders")] == ["orders/day.csv"]
    assert storage.inbox_files("acme.sales", "nothing") == []
    with pytest.raises(FileExists):
        storage.inbox_put("acme.sales", "orders/day.csv", source)
    storage.inbox_get("acme.sales", "orders/day.csv", tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_text() == "id,amount\n1,10\n"

    storage.inbox_move("acme.sales", "orders/day.csv", "orders/.lanner-done/day.csv")
    assert [f.name for f in storage.inbox_files("acme.sales", "orders")] == ["orders/.lanner-done/day.csv"]
    with pytest.raises(FileMissing):
        storage.inbox_move("acme.sales", "orders/day.csv", "orders/again.csv")
    storage.inbox_put("acme.sales", "orders/day.csv", source)
    with pytest.raises(FileExists):  # a move never replaces a file
        storage.inbox_move("acme.sales", "orders/day.csv", "orders/.lanner-done/day.csv")
    assert storage.inbox_delete("acme.sales", "orders/day.csv") is True
    assert storage.inbox_delete("acme.sales", "orders/day.csv") is False
    with pytest.raises(FileMissing):
        storage.inbox_get("acme.sales", "orders/day.csv", tmp_path / "gone.csv")
    # The inbox is apart from executions' files: deleting an execution of a flow named like a folder keeps it.
    storage.put(Address("acme.sales", "orders", "x1", "t", 1, "day.csv"), source)
    assert storage.delete_execution("acme.sales", "orders", "x1") == 1
    assert [f.name for f in storage.inbox_files("acme.sales")] == ["orders/.lanner-done/day.csv", "top.csv"]
    assert [f.name for f in storage.inbox_files("globex")] == ["orders/theirs.csv"]


@pytest.mark.parametrize("name", ["../x.csv", "a/../../b", "/etc/passwd", "a//b", "back\\slash", ""])
def test_an_inbox_name_that_leaves_its_folder_is_refused(storage, tmp_path, name):
    source = tmp_path / "x"
    source.write_text("x")
    with pytest.raises(InvalidAddress):
        storage.inbox_put("acme.sales", name or ".", source)
    with pytest.raises(InvalidAddress):
        storage.inbox_files("../acme")
