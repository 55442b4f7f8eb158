"""The studio's one set of display helpers: each kind of value reads the same on every page."""

from __future__ import annotations

import datetime as dt

from studio import display

AT = dt.datetime(2026, 11, 29, 10, 5, 7)


def test_moments():
    assert display.when(AT) == "2026-11-29 10:05:07"
    assert display.when(AT, seconds=False) == "2026-11-29 10:05"
    assert display.when(None) == "" and display.when(None, missing=display.NEVER) == "never"
    assert display.clock(AT) == "10:05:07"
    assert display.minute_utc(AT) == "2026-11-29 10:05 UTC"  # naive: taken as UTC
    paris = dt.timezone(dt.timedelta(hours=1))
    assert display.minute_utc(AT.replace(tzinfo=paris)) == "2026-11-29 09:05 UTC"
    assert display.minute_utc(None, missing="none scheduled") == "none scheduled"


def test_the_three_durations_keep_their_own_texts():
    assert [display.elapsed(m) for m in (None, 0, 850, 12_500, 150_500)] == [
        "",
        "0 ms",
        "850 ms",
        "12.5 s",
        "2 min 30 s",
    ]
    assert [display.node_elapsed(m) for m in (None, 0, 850, 12_500, 150_500)] == ["", "", "850 ms", "12.5 s", "150.5 s"]
    assert [display.average_seconds(s) for s in (None, 0.85, 12.5, 192.0)] == ["-", "850 ms", "12.5 s", "3.2 min"]


def test_flags_missing_values_labels_and_first_lines():
    assert (display.yes(True), display.yes(False)) == ("yes", "")
    assert (display.or_none(None), display.or_none(""), display.or_none("ann")) == ("-", "-", "ann")
    assert display.labels({"team": "data", "env": "prod"}) == "team:data, env:prod" and display.labels(None) == ""
    assert display.first_line("  Loads the data.\nThen more.") == "Loads the data." and display.first_line(None) == ""


def test_json():
    assert display.json_block({"a": 1}) == '{\n  "a": 1\n}' and display.json_block(None) == "{}"
    assert display.json_block({"at": AT}) == '{\n  "at": "2026-11-29 10:05:07"\n}'
    assert display.json_line({"a": 1}) == '{"a": 1}' and display.json_line({}) == ""


def test_log_lines_and_canvas_nodes():
    assert display.log_text(AT, "INFO", "extract", "hi") == "10:05:07 INFO  extract hi"
    assert display.log_text(AT, "ERROR", "", "boom") == "10:05:07 ERROR - boom"
    node = display.canvas_node({"id": "t", "state": "SUCCESS", "duration_ms": 1500, "attempts": 2})
    assert (node["id"], node["duration"], node["attempts"]) == ("t", "1.5 s", "attempt 2")
    assert display.canvas_node({"id": "t", "duration_ms": 0, "attempts": 1})["attempts"] == ""
    assert display.canvas_node({"id": "plain"})["duration"] == ""  # a node without a run


def test_a_variable_reads_as_typed_in_yaml():
    assert [display.scalar(v) for v in ("eu", 42, True, [1, "a"])] == ["eu", "42", "true", '[1, "a"]']


def test_file_sizes():
    assert [display.size(n) for n in (0, 812, 1024, 4300, 13 * 1024**2, 3 * 1024**3 // 2, None)] == [
        "0 B", "812 B", "1.0 KB", "4.2 KB", "13.0 MB", "1.5 GB", ""
    ]  # fmt: skip
