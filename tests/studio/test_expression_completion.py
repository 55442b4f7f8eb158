"""``{{ }}`` completion: the flow's inputs, variables and each task's output fields (declared by its type, plus what
a followed run gave), in the forms' fields and in the YAML editor."""

from __future__ import annotations

import pytest

from studio import services
from tests.support.studio import open_flow

FLOW = """\
id: completion_demo
namespace: studio.tests
inputs:
  - {id: day, type: STRING, defaults: "2026-11-28"}
variables: {table: orders}
tasks:
  - id: extract
    type: sqlite.query
    url: sqlite:////tmp/completion.db
    sql: SELECT 1 AS one
  - id: fetch
    type: http.download
    uri: https://files.example.test/a.csv
  - id: say
    type: log
    message: "done"
"""


def _names(text: str, outputs: dict | None = None) -> dict[str, dict[str, str]]:
    return {n["label"]: n for n in services.expression_names(text, outputs)}


def test_each_tasks_declared_output_fields_are_offered_with_what_they_hold():
    names = _names(FLOW)
    assert {"outputs.extract.rows", "outputs.extract.row", "outputs.extract.size", "outputs.extract.uri"} <= set(names)
    assert {"outputs.fetch.uri", "outputs.fetch.size", "outputs.fetch.code"} <= set(names)
    assert names["outputs.extract.rows"]["detail"] == "output of sqlite.query"
    assert "rows" in names["outputs.extract.rows"]["info"]
    assert {"inputs.day", "vars.table", "execution.id", "secret('NAME')"} <= set(names)


def test_a_task_without_outputs_offers_none():
    assert not [label for label in _names(FLOW) if label.startswith("outputs.say.")]


def test_what_a_followed_run_gave_is_offered_besides_the_declared_fields():
    names = _names(FLOW, {"extract": {"rows": [], "size": 0, "custom": 1}})
    assert "outputs.extract.custom" in names and "outputs.extract.rowcount" in names


def test_nested_tasks_and_unknown_types():
    text = (
        "id: f\nnamespace: n\ntasks:\n  - id: g\n    type: sequential\n    tasks:\n"
        "      - {id: inner, type: kv.get, key: k}\n  - {id: odd, type: not.a.type}\n"
    )
    names = _names(text)
    assert {"outputs.inner.value", "outputs.inner.found"} <= set(names)
    assert "outputs.odd.value" in names  # a type not known here: value is the usual output


def test_a_text_that_does_not_parse_offers_the_run_names_only():
    names = _names("tasks: [unclosed")
    assert "execution.id" in names and not [label for label in names if label.startswith("outputs.")]


@pytest.mark.slow
def test_typing_outputs_in_the_yaml_editor_offers_the_tasks_output_fields(studio, page, admin_api):
    admin_api.post("/flows", content=FLOW, headers={"content-type": "application/x-yaml"})  # the namespace exists
    assert admin_api.put("/namespaces/studio.tests/secrets/SHOP_TOKEN", json={"value": "s3cret"}).is_success
    assert admin_api.put("/namespaces/studio.tests/variables/region", json={"value": "eu"}).is_success
    open_flow(studio, page, FLOW, "completion_demo")
    editor = page.locator("#yaml-editor .cm-content")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type('\n  - id: report\n    type: log\n    message: "{{ outputs.ext')
    tooltip = page.locator(".cm-tooltip-autocomplete")
    tooltip.wait_for(timeout=10_000)
    shown = tooltip.inner_text()
    assert "outputs.extract.rows" in shown and "outputs.extract.uri" in shown, shown
    assert "log" not in shown.split()  # inside {{ }} only expression names, not task types
    tooltip.locator("li", has_text="outputs.extract.rows").click()
    page.wait_for_function(
        "(document.querySelector('#yaml-editor .cm-content')?.innerText ?? '').includes('{{ outputs.extract.rows')",
        timeout=10_000,
    )
    # The namespace's secret names and variables complete too (never a secret's value).
    page.keyboard.type(" }} {{ secr")
    secrets = page.locator(".cm-tooltip-autocomplete", has_text="secret('SHOP_TOKEN')")
    secrets.wait_for(timeout=10_000)
    assert "s3cret" not in secrets.inner_text()
    page.keyboard.press("Escape")
    page.keyboard.type(" }} {{ vars.reg")
    page.locator(".cm-tooltip-autocomplete", has_text="vars.region").wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    # Outside {{ }} the YAML words still complete.
    page.keyboard.type(' }}"\n  - id: more\n    type: http.req')
    page.locator(".cm-tooltip-autocomplete", has_text="http.request").wait_for(timeout=10_000)
