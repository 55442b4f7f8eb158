"""Renaming a task and editing inputs/triggers entry by entry change only the text they must."""

from __future__ import annotations

import pytest

from engine.flows import yaml_refactor
from engine.flows.loader import load_flow_or_raise
from engine.flows.yaml_edit import EditError

FLOW = """\
# Orders, every morning.
id: orders
namespace: acme.sales
tasks:
  # Fetch them first.
  - id: fetch   # the source
    type: http.request
    uri: https://example.test/orders
  - id: "count"
    type: log
    dependsOn: [fetch]
    message: "{{ outputs.fetch.body | length }} orders, {{ outputs['fetch'].code }} / {{ outputs[\\"fetch\\"].code }}"
  - id: fetch_all
    type: log
    dependsOn:
      - fetch    # waits for the source
      - count
    message: |
      {{ outputs.fetch.code }} and {{ outputs . fetch . code }}; not {{ outputs.fetch_all }} nor outputs.fetch
errors:
  - id: tell
    type: log
    message: "{{ 'source down' if error.taskId == 'fetch' else outputs.fetch.code }}"
finally:
  - id: last
    type: log
    message: "{{ outputs.count }} {{ outputs['fetch'].code if 'fetch' in outputs else 0 }}"
outputs:
  - id: code
    type: STRING
    value: "{{ outputs.fetch.code }}"
"""


def test_rename_changes_the_id_dependencies_and_expressions_and_nothing_else():
    renamed = yaml_refactor.rename_task(FLOW, "fetch", "download")
    expected = (
        FLOW.replace("- id: fetch   #", "- id: download   #")
        .replace("dependsOn: [fetch]", "dependsOn: [download]")
        .replace("outputs.fetch.", "outputs.download.")
        .replace("outputs['fetch']", "outputs['download']")
        .replace('outputs[\\"fetch\\"]', 'outputs[\\"download\\"]')
        .replace("outputs . fetch . code", "outputs . download . code")
        .replace("      - fetch    #", "      - download    #")
        .replace("error.taskId == 'fetch'", "error.taskId == 'download'")
        .replace("if 'fetch' in outputs", "if 'download' in outputs")
    )
    assert renamed == expected
    assert "{{ outputs.fetch_all }} nor outputs.fetch\n" in renamed  # another task, and text outside {{ }}
    load_flow_or_raise(renamed, "orders.yml")


def test_rename_keeps_the_quotes_of_a_quoted_id():
    renamed = yaml_refactor.rename_task(FLOW, "count", "tally")
    assert '  - id: "tally"\n' in renamed and "      - tally\n" in renamed and "{{ outputs.tally }}" in renamed
    assert renamed.count("count") == FLOW.count("count") - 3


@pytest.mark.parametrize(
    ("new_id", "message"),
    [
        ("fetch_all", "another task is already called 'fetch_all'"),
        ("tell", "another task is already called 'tell'"),
        ("bad id", "not a valid task id"),
        ("-x", "not a valid task id"),
        ("", "a task needs an id"),
    ],
)
def test_rename_refuses_an_invalid_or_taken_id(new_id, message):
    with pytest.raises(EditError, match=message):
        yaml_refactor.rename_task(FLOW, "fetch", new_id)


SETTINGS = """\
id: greet
namespace: acme
inputs:
  # Who to greet.
  - id: who   # a name
    type: STRING
    defaults: Ana  # the usual one
  # How loud.
  - {id: loud, type: BOOLEAN, defaults: false}   # inline
triggers:
  - id: morning
    type: schedule
    cron: "0 9 * * *"   # nine o'clock
    # weekdays only, one day
  - id: hook   # for the CRM
    type: webhook
    key: abc-12345
tasks:
  - {id: hi, type: log, message: "hi {{ inputs.who }}"}
"""


def test_editing_one_field_of_one_entry_keeps_every_other_byte():
    inputs = [
        {"id": "who", "type": "STRING", "defaults": "Bea"},
        {"id": "loud", "type": "BOOLEAN", "defaults": False},
    ]
    assert yaml_refactor.set_flow_list(SETTINGS, "inputs", inputs) == SETTINGS.replace("defaults: Ana", "defaults: Bea")
    triggers = [
        {"id": "morning", "type": "schedule", "cron": "0 10 * * *"},
        {"id": "hook", "type": "webhook", "key": "abc-12345"},
    ]
    changed = yaml_refactor.set_flow_list(SETTINGS, "triggers", triggers)
    assert changed == SETTINGS.replace('cron: "0 9 * * *"', 'cron: "0 10 * * *"')
    inline = yaml_refactor.set_flow_list(
        SETTINGS, "inputs", [inputs[0] | {"defaults": "Ana"}, inputs[1] | {"defaults": True}]
    )
    assert inline == SETTINGS.replace("defaults: false}", "defaults: true}")


def test_adding_or_removing_an_entry_leaves_the_others_as_written():
    inputs = [
        {"id": "who", "type": "STRING", "defaults": "Ana"},
        {"id": "loud", "type": "BOOLEAN", "defaults": False},
        {"id": "times", "type": "INT", "defaults": 2},
    ]
    added = yaml_refactor.set_flow_list(SETTINGS, "inputs", inputs)
    assert added == SETTINGS.replace("# inline\n", "# inline\n  - id: times\n    type: INT\n    defaults: 2\n")
    removed = yaml_refactor.set_flow_list(SETTINGS, "triggers", [{"id": "hook", "type": "webhook", "key": "abc-12345"}])
    start = SETTINGS.index("  - id: morning")
    assert removed == SETTINGS[:start] + SETTINGS[SETTINGS.index("  - id: hook") :]
    load_flow_or_raise(removed, "greet.yml")
