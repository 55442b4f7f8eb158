"""The flow editor in a real browser: palette, canvas and YAML, each updating the other."""

from __future__ import annotations

import pytest
import yaml

from tests.support.studio import open_flow

pytestmark = pytest.mark.slow

FLOW = """\
# Keep this comment: the editor must not touch it.
id: editor_demo
namespace: studio.tests
tasks:
  - id: first
    type: log
    message: hello   # and this one
"""


@pytest.fixture
def editor(studio, page, admin_api):
    admin_api.post("/flows", content=FLOW, headers={"content-type": "application/x-yaml"})
    page.goto(f"{studio['url']}/flows/studio.tests/editor_demo")
    page.locator(".lanner-node").first.wait_for(timeout=60_000)
    return page


def yaml_text(page) -> str:
    return page.locator("#yaml-editor .cm-content").inner_text()


def test_drag_from_palette_adds_a_task_to_the_yaml(editor):
    editor.drag_and_drop(".palette-item[data-type='log']", ".react-flow__pane", target_position={"x": 200, "y": 300})
    editor.wait_for_function("document.querySelectorAll('.lanner-node').length === 2", timeout=10_000)
    text = yaml_text(editor)
    assert "id: log_1" in text and "# Keep this comment" in text and "message: hello   # and this one" in text


def test_connect_two_nodes_sets_depends_on(editor):
    for x in (60, 300):
        count = editor.locator(".lanner-node").count()
        editor.drag_and_drop(
            ".palette-item[data-type='log']", ".react-flow__pane", target_position={"x": x, "y": 120}, force=True
        )
        editor.wait_for_function(f"document.querySelectorAll('.lanner-node').length === {count + 1}", timeout=10_000)
    editor.wait_for_timeout(500)
    # log_2 runs after log_1 (the order of the list); linking first -> log_2 makes it wait for both.
    source = editor.locator(".react-flow__node[data-id='first'] .react-flow__handle-bottom").bounding_box()
    target = editor.locator(".react-flow__node[data-id='log_2'] .react-flow__handle-top").bounding_box()
    editor.mouse.move(source["x"] + source["width"] / 2, source["y"] + source["height"] / 2)
    editor.mouse.down()
    editor.mouse.move(source["x"] + 20, source["y"] + 30, steps=5)
    editor.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2, steps=10)
    editor.mouse.up()
    editor.wait_for_function(
        "(document.querySelector('#yaml-editor .cm-content')?.innerText ?? '').includes('dependsOn')", timeout=10_000
    )
    assert "dependsOn: [log_1, first]" in yaml_text(editor)
    assert editor.locator(".react-flow__edge").count() >= 2


def test_yaml_edits_update_the_canvas_and_invalid_yaml_keeps_it(editor):
    editor.locator("#yaml-editor .cm-content").click()
    editor.keyboard.press("Control+End")
    editor.keyboard.insert_text("  - id: second\n    type: log\n    message: typed\n")
    editor.wait_for_function("document.querySelectorAll('.lanner-node').length === 2", timeout=10_000)
    assert editor.locator(".react-flow__node[data-id='second']").count() == 1
    editor.keyboard.insert_text("  - id: [broken\n")
    editor.locator(".problem-line").first.wait_for(timeout=10_000)
    assert "YAML syntax error" in editor.locator(".problem-line").first.inner_text()
    assert editor.locator(".lanner-node").count() == 2  # the canvas stays as it was
    assert "# Keep this comment" in yaml_text(editor)


def test_save_creates_a_revision(editor, studio, admin_api):
    editor.drag_and_drop(".palette-item[data-type='return']", ".react-flow__pane", target_position={"x": 250, "y": 300})
    editor.wait_for_function("document.querySelectorAll('.lanner-node').length === 2", timeout=10_000)
    assert editor.locator("#dirty-badge").count() == 1
    editor.click("#save-button")
    editor.wait_for_function(
        "(document.querySelector('#editor-message')?.innerText ?? '').includes('revision')", timeout=10_000
    )
    revisions = admin_api.get("/flows/studio.tests/editor_demo/revisions").json()
    assert len(revisions) >= 2 and revisions[-1]["author"] == "admin"  # the person signed in, in the history
    saved = admin_api.get("/flows/studio.tests/editor_demo", headers={"accept": "application/x-yaml"}).text
    assert "type: return" in saved and saved.startswith("# Keep this comment")
    assert editor.locator("#dirty-badge").count() == 0


RUNNABLE = """\
id: runnable
namespace: studio.tests
inputs:
  - {id: who, type: STRING}
tasks:
  - id: greet
    type: log
    message: "Hello {{ inputs.who }}"
  - id: answer
    type: return
    value: 42
"""


def test_run_with_an_input_and_watch_every_node_succeed(studio, page):
    open_flow(studio, page, RUNNABLE, "runnable")
    page.click("#run-button")
    page.click("#start-run")  # no value for a required input: refused, naming it
    page.locator("#run-error").wait_for(timeout=10_000)
    assert "input 'who' is required" in page.locator("#run-error").inner_text()
    page.get_by_role("dialog").locator("input").first.fill("Ana")
    page.click("#start-run")
    page.wait_for_function(
        "document.querySelectorAll('.lanner-node[data-state=\"SUCCESS\"]').length === 2", timeout=30_000
    )
    page.wait_for_function(
        "(document.querySelector('#execution-state')?.innerText ?? '') === 'SUCCESS'", timeout=10_000
    )
    # the state's colour comes from engine/core/palette.py through a CSS variable the studio puts on :root
    node = page.locator('.lanner-node[data-state="SUCCESS"]').first
    assert node.evaluate("n => getComputedStyle(n).borderTopColor") == "rgb(22, 163, 74)"  # #16a34a
    page.locator(".log-line").first.wait_for(timeout=10_000)
    assert "Hello Ana" in page.locator("#log-panel").inner_text()
    if __import__("os").environ.get("LANNER_SCREENSHOTS"):
        page.screenshot(
            path=str(__import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "editor.png"), full_page=True
        )
    page.locator(".react-flow__node[data-id='answer']").click()  # a node's own outputs
    page.locator("#task-outputs").wait_for(timeout=10_000)
    assert '"value": 42' in page.locator("#task-outputs").inner_text()


def test_kill_a_long_run(studio, page):
    open_flow(
        studio, page, "id: long\nnamespace: studio.tests\ntasks:\n  - {id: nap, type: sleep, duration: 60s}\n", "long"
    )
    page.click("#run-button")
    page.click("#start-run")
    page.wait_for_function("document.querySelector('.lanner-node[data-state=\"RUNNING\"]') !== null", timeout=30_000)
    page.click("#kill-button")
    page.wait_for_function("(document.querySelector('#execution-state')?.innerText ?? '') === 'KILLED'", timeout=15_000)
    assert page.locator(".lanner-node[data-state='KILLED']").count() == 1


def test_edit_a_property_in_the_form_and_see_the_yaml_change(editor):
    editor.locator(".react-flow__node[data-id='first']").click()
    field = editor.locator("#form-panel .code-field[data-field='message'] .cm-content")
    field.wait_for(timeout=10_000)
    assert field.inner_text() == "hello"
    field.click()
    editor.keyboard.press("Control+A")
    editor.keyboard.type("changed from the form")
    editor.keyboard.press("Enter")  # a one-line field: Enter reports it
    editor.wait_for_function(
        "(document.querySelector('#yaml-editor .cm-content')?.innerText ?? '').includes('changed from the form')",
        timeout=10_000,
    )
    text = yaml_text(editor)
    assert "message: changed from the form   # and this one" in text and "# Keep this comment" in text


def test_undo_and_redo_canvas_edits(editor):
    editor.drag_and_drop(".palette-item[data-type='log']", ".react-flow__pane", target_position={"x": 200, "y": 300})
    editor.wait_for_function("document.querySelectorAll('.lanner-node').length === 2", timeout=10_000)
    editor.click("#undo-button")
    editor.wait_for_function("document.querySelectorAll('.lanner-node').length === 1", timeout=10_000)
    assert "log_1" not in yaml_text(editor)
    editor.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    editor.keyboard.press("Control+Shift+Z")  # redo, from the keyboard
    editor.wait_for_function("document.querySelectorAll('.lanner-node').length === 2", timeout=10_000)
    assert "id: log_1" in yaml_text(editor)


def test_a_canvas_edit_changes_only_what_differs_in_the_yaml(editor, admin_api):
    """The YAML editor is not given a whole new document on a canvas edit: the cursor stays where the person left
    it, and after drops, a delete in the middle and its undo it shows byte for byte the text the server holds (and
    the canvas that text's tasks)."""
    editor.locator("#yaml-editor .cm-line", has_text="id: editor_demo").click()
    for count, spot in ((2, {"x": 200, "y": 300}), (3, {"x": 40, "y": 60})):
        editor.drag_and_drop(".palette-item[data-type='log']", ".react-flow__pane", target_position=spot)
        editor.wait_for_function(f"document.querySelectorAll('.lanner-node').length === {count}", timeout=10_000)
    editor.locator(".react-flow__node[data-id='log_1']").click()
    editor.keyboard.press("Delete")  # a block in the middle of the text goes...
    editor.wait_for_function("document.querySelectorAll('.lanner-node').length === 2", timeout=10_000)
    editor.click("#undo-button")  # ...and comes back
    editor.wait_for_function("document.querySelectorAll('.lanner-node').length === 3", timeout=10_000)
    assert editor.locator("#yaml-editor .cm-content .cm-activeLine").inner_text() == "id: editor_demo"
    editor.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    editor.keyboard.press("Control+s")  # from the canvas: saves the text the server holds
    editor.wait_for_function("!document.querySelector('#dirty-badge')", timeout=10_000)
    held = admin_api.get("/flows/studio.tests/editor_demo", headers={"accept": "application/x-yaml"}).text
    assert "# Keep this comment" in held and "id: log_1" in held and "id: log_2" in held
    editor.locator("#yaml-editor .cm-content").click()
    editor.keyboard.press("Control+s")  # from the YAML editor: saves the text it shows, were it any different
    editor.wait_for_function(
        "(document.querySelector('#editor-message')?.innerText ?? '').includes('nothing to save')", timeout=10_000
    )
    assert admin_api.get("/flows/studio.tests/editor_demo", headers={"accept": "application/x-yaml"}).text == held
    shown = editor.locator(".react-flow__node").evaluate_all("nodes => nodes.map((n) => n.dataset.id)")
    assert sorted(shown) == sorted(task["id"] for task in yaml.safe_load(held)["tasks"])


def test_drop_onto_a_group_adds_the_task_inside_it(studio, page):
    open_flow(
        studio,
        page,
        "id: grouped\nnamespace: studio.tests\ntasks:\n  - id: fan\n    type: parallel\n"
        "    tasks:\n      - {id: one, type: log, message: m}\n",
        "grouped",
    )
    page.drag_and_drop(".palette-item[data-type='log']", ".react-flow__node[data-id='fan']", force=True)
    page.wait_for_function("document.querySelectorAll('.lanner-node').length === 3", timeout=10_000)
    assert "      - {id: log_1, type: log, message: Hello from Lanner}" in yaml_text(page)


def test_a_problem_in_the_yaml_marks_its_node(editor):
    editor.locator("#yaml-editor .cm-content").click()
    editor.keyboard.press("Control+End")
    editor.keyboard.insert_text("    level: LOUD\n")
    editor.locator(".lanner-node-error").first.wait_for(timeout=10_000)
    assert "level" in editor.locator(".react-flow__node[data-id='first'] .lanner-node-error").inner_text()


def test_history_lists_diffs_and_restores_revisions(editor):
    editor.drag_and_drop(".palette-item[data-type='fail']", ".react-flow__pane", target_position={"x": 200, "y": 300})
    editor.wait_for_function("document.querySelectorAll('.lanner-node').length === 2", timeout=10_000)
    editor.click("#save-button")
    editor.wait_for_function(
        "(document.querySelector('#editor-message')?.innerText ?? '').includes('revision')", timeout=10_000
    )
    editor.click("#more-menu")  # a secondary action: in the toolbar's menu
    editor.click("#history-button")
    editor.locator(".revision-row").nth(1).wait_for(timeout=10_000)
    older = editor.locator(".revision-row").nth(1)
    older.get_by_text("Diff").click()
    editor.locator(".diff-row").first.wait_for(timeout=10_000)
    assert "type: fail" in editor.locator("#diff-view").inner_text()
    # Between two revisions: the older on the left, the newest (just saved) on the right.
    newest, before = (int(editor.locator(".revision-row").nth(i).inner_text().split()[1]) for i in (0, 1))
    editor.click("#compare-with")
    editor.get_by_role("option", name=f"revision {newest}", exact=True).click()
    older.get_by_text("Diff").click()
    editor.wait_for_function(
        "t => document.querySelector('#diff-view').previousElementSibling?.innerText === t",
        arg=f"revision {before} (left) and revision {newest} (right)",
        timeout=10_000,
    )
    assert "type: fail" in editor.locator("#diff-view").inner_text()
    older.get_by_text("Restore").click()
    editor.wait_for_function(
        "(t => t !== undefined && !t.includes('type: fail'))(document.querySelector('#yaml-editor .cm-content')?.innerText)",
        timeout=10_000,
    )
    assert editor.locator("#dirty-badge").count() == 1
