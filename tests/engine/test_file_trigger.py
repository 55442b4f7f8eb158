"""The file trigger on a real folder, run by a real trigger listener: each file that arrives starts one execution
once it stopped growing, with its content in internal storage; it is then moved aside; other files are left."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session, select

from engine.storage.address import Address
from engine.storage.local import LocalStorage
from engine.store.tables import Execution
from tests.support.ids import unique
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _started(cluster, flow_id: str) -> list[Execution]:
    with Session(cluster.db) as session:
        return list(session.exec(select(Execution).where(Execution.flow_id == flow_id)))


def test_each_file_that_arrives_starts_one_execution_once_complete(cluster_factory, tmp_path):
    drop = tmp_path / "incoming"
    drop.mkdir()
    cluster = cluster_factory()
    cluster.start("listener", "trigger-listener")
    flow_id = unique("files")
    cluster.deploy(
        f"id: {flow_id}\nnamespace: drop\ntasks:\n  - {{id: t, type: log, message: '{{{{ trigger.name }}}}'}}\n"
        f"triggers:\n  - {{id: arrived, type: file.trigger, folder: '{drop}', pattern: '*.csv', interval: 200ms, "
        "stableFor: 2s}\n"
    )
    (drop / "notes.txt").write_text("not a csv")
    growing = drop / "big.csv"
    with growing.open("w") as out:  # written in two parts, 1 s apart: not taken half-written
        out.write("id,amount\n1,10\n")
        out.flush()
        (drop / "small.csv").write_text("id,amount\n7,70\n")
        time.sleep(1.0)
        assert {e.trigger["name"] for e in _started(cluster, flow_id)} <= {"small.csv"}
        out.write("2,20\n")
    started = wait_until(
        lambda: (s := _started(cluster, flow_id)) and len(s) == 2 and s, 20, "the files started nothing"
    )
    storage = LocalStorage(cluster.home / "storage")
    contents = {e.trigger["name"]: storage.read(Address.parse(e.trigger["uri"])).decode() for e in started}
    assert contents == {"big.csv": "id,amount\n1,10\n2,20\n", "small.csv": "id,amount\n7,70\n"}
    assert sorted(p.name for p in drop.iterdir()) == [".lanner-done", "notes.txt"]
    assert sorted(p.name for p in (drop / ".lanner-done").iterdir()) == ["big.csv", "small.csv"]
    time.sleep(1)
    assert len(_started(cluster, flow_id)) == 2
