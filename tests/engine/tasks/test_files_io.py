"""file.write and file.read through real local storage: round trips, encodings, the output limit, bad addresses."""

from __future__ import annotations

import pytest

from engine.storage import Address
from engine.tasks.context import TaskFailed


def test_a_written_text_reads_back(run_task, context):
    written = run_task("file.write", content="day,total\n2026-11-28,12.5\n", fileName="reports/summary.csv")
    assert written["uri"] == "lanner://acme/flow/execution/task/1/reports/summary.csv"
    assert written["size"] == 26
    assert context.storage.read(Address.parse(written["uri"])) == b"day,total\n2026-11-28,12.5\n"
    read = run_task("file.read", **{"from": written["uri"]})
    assert read == {"content": "day,total\n2026-11-28,12.5\n", "size": 26}


def test_encodings(run_task, context, tmp_path):
    source = tmp_path / "latin.txt"
    source.write_bytes("café".encode("latin-1"))
    address = "lanner://acme/flow/earlier/t/1/latin.txt"
    context.storage.put(Address.parse(address), source)
    with pytest.raises(TaskFailed, match=r"is not utf-8 text.*give its encoding"):
        run_task("file.read", **{"from": address})
    assert run_task("file.read", **{"from": address}, encoding="latin-1")["content"] == "café"
    written = run_task("file.write", content="é", fileName="x.txt", encoding="utf-16")
    assert context.storage.read(Address.parse(written["uri"])) == "é".encode("utf-16")
    with pytest.raises(TaskFailed, match="cannot be written as ascii"):
        run_task("file.write", content="é", fileName="y.txt", encoding="ascii")
    with pytest.raises(ValueError, match="not a text encoding"):
        run_task("file.write", content="é", encoding="klingon")


def test_a_file_over_the_output_limit_is_refused_before_it_is_read(run_task, monkeypatch):
    written = run_task("file.write", content="x" * 5000, fileName="big.txt")
    monkeypatch.setenv("LANNER_MAX_OUTPUT_BYTES", "1000")
    with pytest.raises(TaskFailed, match=r"5,000 bytes, more than 1,000 \(LANNER_MAX_OUTPUT_BYTES.*data.transform"):
        run_task("file.read", **{"from": written["uri"]})


def test_bad_names_and_addresses(run_task):
    with pytest.raises(ValueError, match="must stay inside its folder"):
        run_task("file.write", content="x", fileName="../escape.txt")
    with pytest.raises(TaskFailed, match="does not exist"):
        run_task("file.read", **{"from": "lanner://acme/flow/e/t/1/none.txt"})
    with pytest.raises(TaskFailed, match="reads only its own namespace"):
        run_task("file.read", **{"from": "lanner://other/flow/e/t/1/none.txt"})
    with pytest.raises(TaskFailed, match="is not a lanner:// address"):
        run_task("file.read", **{"from": "/etc/passwd"})


@pytest.mark.parametrize("type_name", ["file.write", "file.read", "data.transform", "http.download"])
def test_the_examples_shown_in_the_help_are_valid(type_name):
    from engine.tasks import registry

    model = registry.get(type_name)
    assert model.examples
    for example in model.examples:
        model.model_validate({"id": "example", "type": type_name, **example})
