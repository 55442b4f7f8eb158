"""Copy and paste of canvas nodes: the YAML of the selected nodes, pasted into another flow with ids made unique and
``dependsOn`` kept only within the paste; in a real browser (without clipboard permission, so through the
localStorage fallback) and on the service that makes and reads the YAML."""

from __future__ import annotations

import pytest
import yaml

from studio.services import clipboard
from tests.support.studio import open_flow

SOURCE = """\
id: clip_source
namespace: studio.tests
tasks:
  - id: start
    type: log
    message: first
  - id: fetch
    type: return
    value: fetched
    dependsOn: [start]
  - id: shout
    type: return
    value: "{{ outputs.fetch.value }}!"
    dependsOn: [fetch]
"""
TARGET = """\
# the target's comment stays
id: clip_target
namespace: studio.tests
tasks:
  - id: fetch   # taken: the pasted one is renamed
    type: log
    message: already here
"""


def _tasks(text: str) -> dict[str, dict]:
    return {task["id"]: task for task in yaml.safe_load(text)["tasks"]}


def test_copy_then_paste_renames_taken_ids_and_keeps_dependencies_within_the_paste():
    copied = clipboard.copy_tasks(SOURCE, ["shout", "fetch"])
    assert copied.startswith(clipboard.MARK)
    assert [t["id"] for t in yaml.safe_load(copied)] == ["fetch", "shout"]  # in the flow's order
    pasted, ids = clipboard.paste_tasks(TARGET, copied)
    assert ids == ["fetch_2", "shout"]
    assert pasted.startswith(TARGET)  # the target's text is kept byte for byte; the tasks come after
    tasks = _tasks(pasted)
    assert "dependsOn" not in tasks["fetch_2"]  # ``start`` was not copied
    assert tasks["shout"]["dependsOn"] == ["fetch_2"]
    again, ids = clipboard.paste_tasks(pasted, copied)  # pasting twice: every id fresh
    assert ids == ["fetch_3", "shout_2"] and _tasks(again)["shout_2"]["dependsOn"] == ["fetch_3"]
    assert clipboard.copy_tasks(SOURCE, ["nope"]) == ""
    for junk in ("", "just words", "- 1\n- 2\n", "a: [", "- {id: x}\n"):
        with pytest.raises(clipboard.NotTasks):
            clipboard.paste_tasks(TARGET, junk)


@pytest.mark.slow
def test_copy_nodes_in_one_flow_and_paste_them_into_another(studio, page, admin_api):
    assert admin_api.post("/flows", content=TARGET, headers={"content-type": "application/x-yaml"}).is_success
    open_flow(studio, page, SOURCE, "clip_source")
    page.locator(".react-flow__node[data-id='fetch']").click()
    page.locator(".react-flow__node[data-id='shout']").click(modifiers=["Control"])  # React Flow's multi-select
    page.wait_for_function("document.querySelectorAll('.react-flow__node.selected').length === 2", timeout=10_000)
    page.keyboard.press("Control+c")
    page.wait_for_function(
        "document.querySelector('#editor-message')?.innerText.includes('copied 2 task(s)')", timeout=15_000
    )
    # The message and the script that stores the copy come in one reply; the script may run a moment later.
    page.wait_for_function("(localStorage.getItem('lanner:clipboard') || '').includes('fetched')", timeout=10_000)

    page.goto(f"{studio['url']}/flows/studio.tests/clip_target")
    page.locator(".react-flow__node[data-id='fetch']").wait_for(timeout=60_000)
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.keyboard.press("Control+v")
    page.locator(".react-flow__node[data-id='fetch_2']").wait_for(timeout=15_000)
    page.locator(".react-flow__node[data-id='shout']").wait_for(timeout=5_000)
    page.click("#save-button")
    page.wait_for_function("document.querySelector('#dirty-badge') === null", timeout=15_000)
    saved = admin_api.get("/flows/studio.tests/clip_target", headers={"accept": "application/x-yaml"}).text
    assert saved.startswith(TARGET)
    tasks = _tasks(saved)
    assert tasks["fetch_2"]["value"] == "fetched" and "dependsOn" not in tasks["fetch_2"]
    assert tasks["shout"]["dependsOn"] == ["fetch_2"]

    page.keyboard.press("Control+z")  # a paste is one edit: undone at once
    page.wait_for_function("!document.querySelector(\".react-flow__node[data-id='fetch_2']\")", timeout=10_000)
