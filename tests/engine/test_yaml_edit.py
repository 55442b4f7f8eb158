"""Edits made by the canvas and forms change only the text they must."""

from __future__ import annotations

import difflib

import pytest

from engine.flows import yaml_edit
from engine.flows.loader import load_flow_or_raise

SOURCE = """\
# Daily sales: owned by the data team.
id: daily_sales   # keep this id stable
namespace: acme.sales

tasks:
  # Pull the day's orders.
  - id: extract
    type: http.request
    uri: "https://example.test/sales"   # quoted on purpose
    retry: {type: exponential, interval: 1s, maxAttempts: 5}

  - id: transform
    type: python
    script: |
      import pandas as pd
      # a comment inside the script
      print("ok")

  - id: branch
    type: if
    condition: "{{ outputs.transform.vars.ok }}"
    then:
      - {id: notify, type: log, message: done}
    else:
      - id: alert
        type: log
        message: 'failed'

errors:
  - id: on_error
    type: log
    message: oops
# trailing comment
"""


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:])
        elif line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:])
    return removed, added


def test_set_existing_scalar_keeps_its_comment_and_everything_else():
    after = yaml_edit.set_property(SOURCE, "extract", "uri", "https://example.test/v2")
    assert changed_lines(SOURCE, after) == (
        ['    uri: "https://example.test/sales"   # quoted on purpose'],
        ["    uri: https://example.test/v2   # quoted on purpose"],
    )
    assert load_flow_or_raise(after).tasks[0].uri == "https://example.test/v2"


def test_add_a_property_to_a_block_task_and_to_a_flow_style_task():
    after = yaml_edit.set_property(SOURCE, "transform", "timeout", "5m")
    assert changed_lines(SOURCE, after) == ([], ["    timeout: 5m"])
    assert after.index("    timeout: 5m") > after.index('print("ok")')
    after = yaml_edit.set_property(after, "notify", "level", "WARN")
    assert changed_lines(SOURCE, after)[1][-1] == "      - {id: notify, type: log, message: done, level: WARN}"
    flow = load_flow_or_raise(after)
    assert flow.tasks[1].timeout.total_seconds() == 300 and flow.tasks[2].then[0].level.value == "WARN"


def test_replace_a_block_script_and_a_flow_mapping():
    after = yaml_edit.set_property(SOURCE, "transform", "script", "print('new')\nprint('two')\n")
    removed, added = changed_lines(SOURCE, after)
    assert added == ["      print('new')", "      print('two')"]
    assert "      import pandas as pd" in removed and "  - id: branch" not in removed
    after = yaml_edit.set_property(SOURCE, "extract", "retry", {"type": "constant", "interval": "2s", "maxAttempts": 2})
    assert changed_lines(SOURCE, after)[1] == ["    retry: {type: constant, interval: 2s, maxAttempts: 2}"]
    assert load_flow_or_raise(after).tasks[0].retry.max_attempts == 2


def test_remove_a_property():
    after = yaml_edit.remove_property(SOURCE, "extract", "retry")
    assert changed_lines(SOURCE, after) == (["    retry: {type: exponential, interval: 1s, maxAttempts: 5}"], [])
    after = yaml_edit.set_property(SOURCE, "transform", "script", None)
    assert "import pandas" not in after and "  - id: branch" in after


def test_insert_tasks_in_block_flow_and_nested_lists():
    after = yaml_edit.insert_task(SOURCE, {"id": "load", "type": "log", "message": "loaded"}, index=2)
    removed, added = changed_lines(SOURCE, after)
    assert removed == [] and added == ["  - id: load", "    type: log", "    message: loaded"]
    assert [t.id for t in load_flow_or_raise(after).tasks] == ["extract", "transform", "load", "branch"]
    after = yaml_edit.insert_task(
        after, {"id": "celebrate", "type": "log", "message": "yay"}, parent_id="branch", key="then"
    )
    assert "      - {id: celebrate, type: log, message: yay}" in after  # the style of its siblings
    after = yaml_edit.insert_task(after, {"id": "last", "type": "log", "message": "end"})
    flow = load_flow_or_raise(after)
    assert [t.id for t in flow.tasks][-1] == "last" and [t.id for t in flow.tasks[3].then] == ["notify", "celebrate"]
    assert after.endswith("# trailing comment\n") and after.startswith("# Daily sales")


def test_insert_into_a_missing_list_creates_it():
    after = yaml_edit.insert_task(SOURCE, {"id": "always", "type": "log", "message": "bye"}, key="finally")
    assert load_flow_or_raise(after).finally_[0].id == "always"
    assert changed_lines(SOURCE, after)[0] == []


def test_delete_removes_the_task_its_comment_and_references():
    connected = yaml_edit.connect(SOURCE, "extract", "branch")
    after = yaml_edit.delete_task(connected, "extract")
    removed, _ = changed_lines(connected, after)
    assert "  # Pull the day's orders." in removed and "  - id: extract" in removed
    flow = load_flow_or_raise(after)
    assert [t.id for t in flow.tasks] == ["transform", "branch"] and flow.tasks[1].depends_on == ["transform"]
    assert "    type: python" not in removed
    after = yaml_edit.delete_task(SOURCE, "notify")
    assert (
        "notify" not in after
        and load_flow_or_raise(
            yaml_edit.insert_task(after, {"id": "n2", "type": "log", "message": "m"}, parent_id="branch", key="then")
        )
        .tasks[2]
        .then[0]
        .id
        == "n2"
    )


def test_move_keeps_the_task_text_and_reindents_it():
    after = yaml_edit.move_task(SOURCE, "transform", parent_id="branch", key="else", index=0)
    flow = load_flow_or_raise(after)
    assert [t.id for t in flow.tasks] == ["extract", "branch"]
    assert [t.id for t in flow.tasks[1].else_] == ["transform", "alert"]
    assert "        # a comment inside the script" in after and "          import pandas as pd" in after
    back = yaml_edit.move_task(after, "transform", index=1)
    assert [t.id for t in load_flow_or_raise(back).tasks] == ["extract", "transform", "branch"]


def test_connect_and_disconnect_set_depends_on():
    after = yaml_edit.connect(SOURCE, "extract", "branch")
    assert changed_lines(SOURCE, after) == ([], ["    dependsOn: [transform, extract]"])
    assert load_flow_or_raise(after).tasks[2].depends_on == ["transform", "extract"]
    again = yaml_edit.disconnect(after, "transform", "branch")
    assert load_flow_or_raise(again).tasks[2].depends_on == ["extract"]
    with pytest.raises(yaml_edit.EditError, match="different lists"):
        yaml_edit.connect(SOURCE, "extract", "notify")


def test_errors_are_clear():
    with pytest.raises(yaml_edit.EditError, match="no task 'nope'"):
        yaml_edit.set_property(SOURCE, "nope", "x", 1)
    with pytest.raises(yaml_edit.EditError, match="already exists"):
        yaml_edit.insert_task(SOURCE, {"id": "extract", "type": "log"})
    with pytest.raises(yaml_edit.EditError, match="does not parse"):
        yaml_edit.set_property("a: [", "x", "y", 1)


def test_a_chain_of_edits_on_the_sales_pipeline_leaves_untouched_tasks_byte_for_byte():
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "examples" / "acme" / "daily_sales.yml").read_text()
    extract_block = source[source.index("  - id: extract") : source.index("  # The exchange rates")]
    header = source[: source.index("id: daily_sales")]
    text = yaml_edit.set_property(source, "slack", "timeout", "30s")
    text = yaml_edit.insert_task(
        text, {"id": "audit", "type": "log", "message": "loaded {{ outputs.totals }}"}, index=4
    )
    text = yaml_edit.connect(text, "clean", "slack")
    text = yaml_edit.move_task(text, "audit", index=5)
    text = yaml_edit.delete_task(text, "audit")
    flow = load_flow_or_raise(text)
    ids = ["day", "extract", "rates", "clean", "load_duckdb", "load_postgres", "totals", "slack", "teams"]
    assert [t.id for t in flow.tasks] == ids
    assert flow.tasks[7].depends_on == ["totals", "clean"] and flow.tasks[7].timeout.total_seconds() == 30
    assert extract_block in text and text.startswith(header) and text.endswith("timeout: 1h\n")


def test_a_plain_scalar_keeps_its_trailing_comment_even_at_the_end_of_the_text():
    text = "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: log\n    message: hello   # and this one\n"
    after = yaml_edit.set_property(text, "a", "message", "changed")
    assert after == text.replace("message: hello", "message: changed")


def test_flow_settings_go_before_the_tasks_and_leave_everything_else_alone():
    after = yaml_edit.set_flow_property(SOURCE, "labels", {"team": "data", "tier": "gold"})
    removed, added = changed_lines(SOURCE, after)
    assert removed == [] and added == ["labels:", "  team: data", "  tier: gold"]
    assert after.index("labels:") < after.index("tasks:") and "\n\nlabels:" in after  # the blank line stays above
    flow = load_flow_or_raise(after)
    assert flow.labels == {"team": "data", "tier": "gold"}

    inputs = [{"id": "day", "type": "DATE", "required": False}, {"id": "region", "type": "STRING", "defaults": "eu"}]
    after = yaml_edit.set_flow_property(after, "inputs", inputs)
    after = yaml_edit.set_flow_property(after, "triggers", [{"id": "nightly", "type": "schedule", "cron": "0 2 * * *"}])
    flow = load_flow_or_raise(after)
    assert [i.id for i in flow.inputs] == ["day", "region"] and flow.triggers[0].cron == "0 2 * * *"
    assert after.endswith(
        "oops\ntriggers:\n  - id: nightly\n    type: schedule\n    cron: 0 2 * * *\n# trailing comment\n"
    )


def test_changing_a_block_map_keeps_it_a_block_and_empty_removes_it():
    text = "id: f\nnamespace: n\nlabels:\n  team: data   # owner\nvariables: {a: 1}\ntasks:\n  - {id: a, type: log, message: hi}\n"
    after = yaml_edit.set_flow_property(text, "labels", {"team": "ops"})
    assert after == text.replace("labels:\n  team: data   # owner\n", "labels:\n  team: ops\n")
    after = yaml_edit.set_flow_property(after, "variables", {"a": 2, "b": "x"})
    assert "variables: {a: 2, b: x}\n" in after  # an inline map stays inline
    after = yaml_edit.set_flow_property(after, "labels", {})
    assert "labels" not in after and load_flow_or_raise(after).variables == {"a": 2, "b": "x"}
    assert yaml_edit.set_flow_property(after, "description", "Two\nlines") == after.replace(
        "tasks:", "description: |-\n  Two\n  lines\ntasks:"
    )
