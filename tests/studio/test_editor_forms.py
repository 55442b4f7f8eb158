"""The editor's forms, panes, run inputs and log search, and importing a flow, in a real browser."""

from __future__ import annotations

import pytest

from tests.support.studio import open_flow

pytestmark = pytest.mark.slow

FORMS = """\
# Keep this comment.
id: forms_demo
namespace: studio.tests
inputs:
  - {id: who, type: STRING, defaults: Ana}
tasks:
  - id: call
    type: http.request
    uri: https://example.test
  - id: script
    type: python
    script: |
      print("one")
"""


def yaml_has(page, text: str) -> None:
    try:
        page.wait_for_function(
            "t => (document.querySelector('#yaml-editor .cm-content')?.innerText ?? '').includes(t)",
            arg=text,
            timeout=10_000,
        )
    except Exception:
        shown = page.locator("#yaml-editor .cm-content").inner_text() if page.locator("#yaml-editor").count() else ""
        raise AssertionError(f"the YAML never showed {text!r}; it shows:\n{shown}") from None


def test_task_form_widgets_write_the_yaml(studio, page):
    open_flow(studio, page, FORMS, "forms_demo")
    page.locator(".react-flow__node[data-id='call']").click()
    headers = page.locator("#form-panel .kv-field[data-field='headers']")
    headers.locator(".kv-add").click()
    headers.locator(".kv-key").fill("Accept")
    headers.locator(".kv-value").fill("application/json")
    page.locator("#form-panel input[name='timeout']").click()  # focus leaves the map: it is written
    yaml_has(page, "headers: {Accept: application/json}")
    page.locator("#form-panel input[name='timeout']").fill("45s")
    page.locator("#form-panel input[name='timeout']").press("Enter")
    page.locator("#form-panel .code-field[data-field='uri'] .cm-content").click()  # blur commits the duration
    yaml_has(page, "timeout: 45s")
    # Names complete inside {{ }} in a text field: this flow's inputs and the tasks' outputs.
    page.keyboard.press("End")
    page.keyboard.type("/{{ inp")
    page.locator(".cm-tooltip-autocomplete").wait_for(timeout=10_000)
    assert "inputs.who" in page.locator(".cm-tooltip-autocomplete").inner_text()
    # Enter takes the selected option: wait until it is the input (on a busy machine the list can still be filling)
    selected = page.locator(".cm-tooltip-autocomplete li[aria-selected='true']", has_text="inputs.who")
    selected.wait_for(timeout=10_000)
    selected.click()  # takes the completion (a click picks this option, where Enter takes whichever is selected then)
    page.keyboard.type(" }}")
    page.keyboard.press("Enter")  # reports the field
    yaml_has(page, "uri: https://example.test/{{ inputs.who }}")

    page.locator(".react-flow__node[data-id='script']").click()
    script = page.locator("#form-panel .code-field[data-field='script'][data-language='python']")
    script.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type('print("two")')
    page.locator("#form-panel .code-field[data-field='description'] .cm-content").click()
    yaml_has(page, 'print("two")')
    text = page.locator("#yaml-editor .cm-content").inner_text()
    assert '    script: |\n      print("one")\n      print("two")' in text and "# Keep this comment." in text


def test_flow_settings_form_adds_labels_and_inputs(studio, page):
    open_flow(studio, page, FORMS.replace("forms_demo", "settings_demo"), "settings_demo")
    page.click("#more-menu")  # a secondary action: in the toolbar's menu
    page.click("#flow-settings-button")
    assert page.locator("#form-panel").inner_text().startswith("Flow settings")
    assert page.locator("#yaml-editor").count() == 0  # the form took the YAML's place
    labels = page.locator(".kv-field[data-field='labels']")
    labels.locator(".kv-add").click()
    labels.locator(".kv-key").fill("team")
    labels.locator(".kv-value").fill("data")
    inputs = page.locator(".record-field[data-field='inputs']")
    inputs.locator(".record-add").click()
    row = inputs.locator(".record-row").nth(1)
    row.locator("input[name='id']").fill("count")
    row.locator("select[name='type']").select_option("INT")
    row.locator("input[name='defaults']").fill("3")
    page.locator("#form-panel input[name='timeout']").click()
    page.click("#pane-yaml")
    yaml_has(page, "  - id: count\n    type: INT\n    defaults: 3")
    text = page.locator("#yaml-editor .cm-content").inner_text()
    assert "labels:\n  team: data" in text and text.startswith("# Keep this comment.")
    assert page.locator(".lanner-node").count() == 2 and page.locator(".problem-line").count() == 0


def test_the_right_pane_swaps_hides_and_resizes(studio, page):
    open_flow(studio, page, FORMS.replace("forms_demo", "panes_demo"), "panes_demo")
    pane = page.locator("#yaml-pane")
    before = pane.bounding_box()["width"]
    handle = page.locator("#pane-splitter").bounding_box()
    page.mouse.move(handle["x"] + 3, handle["y"] + 100)
    page.mouse.down()
    page.mouse.move(handle["x"] - 150, handle["y"] + 100, steps=8)
    page.mouse.up()
    assert abs(pane.bounding_box()["width"] - before - 153) < 20
    page.click("#pane-form")
    page.locator("#form-panel").wait_for(timeout=10_000)
    assert page.locator("#yaml-editor").count() == 0
    page.click("#pane-hidden")
    page.wait_for_function("document.querySelector('#yaml-pane') === null", timeout=10_000)
    page.click("#pane-yaml")
    page.locator("#yaml-editor").wait_for(timeout=10_000)
    assert abs(page.locator("#yaml-pane").bounding_box()["width"] - before - 153) < 20  # the width is remembered


TYPED = """\
id: typed_inputs
namespace: studio.tests
inputs:
  - {id: count, type: INT}
  - {id: loud, type: BOOLEAN, defaults: false}
  - {id: colour, type: SELECT, values: [red, green]}
  - {id: day, type: DATE}
tasks:
  - id: greet
    type: log
    message: "count={{ inputs.count }} loud={{ inputs.loud }} colour={{ inputs.colour }} day={{ inputs.day }}"
  - id: nap
    type: sleep
    duration: 300ms
  - id: other
    type: log
    message: something else entirely
"""


def test_typed_run_inputs_durations_on_nodes_and_log_search(studio, page):
    open_flow(studio, page, TYPED, "typed_inputs")
    page.click("#run-button")
    dialog = page.get_by_role("dialog")
    assert dialog.locator("input[name='count']").get_attribute("type") == "number"
    assert dialog.locator("input[name='day']").get_attribute("type") == "date"
    dialog.locator("input[name='count']").fill("7")
    dialog.locator("input[name='day']").fill("2026-11-25")
    dialog.get_by_role("switch").click()
    dialog.get_by_role("combobox").click()
    page.get_by_role("option", name="green").click()
    page.click("#start-run")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    page.locator(".log-line").first.wait_for(timeout=10_000)
    assert "count=7 loud=true colour=green day=2026-11-25" in page.locator("#log-panel").inner_text()
    nap = page.locator(".react-flow__node[data-id='nap'] .lanner-node-duration")
    nap.wait_for(timeout=10_000)
    assert nap.inner_text().endswith(" ms") or nap.inner_text().endswith(" s")
    page.fill("#log-search", "ENTIRELY")
    page.wait_for_function("document.querySelectorAll('.log-line').length === 1", timeout=10_000)
    assert "something else entirely" in page.locator(".log-line").first.inner_text()


def test_import_a_yaml_file_from_the_flows_page(studio, page, tmp_path):
    bad = tmp_path / "broken.yml"
    bad.write_text("id: imported\nnamespace: studio.tests\ntasks:\n  - id: a\n    type: nope\n")
    good = tmp_path / "imported.yml"
    good.write_text(
        "# from a file\nid: imported\nnamespace: studio.tests\ntasks:\n  - {id: a, type: log, message: hi}\n"
    )
    page.goto(f"{studio['url']}/flows")
    page.locator("tr.flow-row").first.wait_for(timeout=60_000)
    page.set_input_files("#import-upload input[type='file']", str(bad))
    page.locator("#flows-error").wait_for(timeout=10_000)
    assert "broken.yml:5:11: task 'a': unknown task type 'nope'" in page.locator("#flows-error").inner_text()
    page.set_input_files("#import-upload input[type='file']", str(good))
    page.wait_for_url("**/flows/studio.tests/imported", timeout=20_000)
    page.locator(".react-flow__node[data-id='a']").wait_for(timeout=30_000)
    assert page.locator("#yaml-editor .cm-content").inner_text().startswith("# from a file")
