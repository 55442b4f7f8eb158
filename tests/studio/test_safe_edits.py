"""Safe edits in the flow editor, in a real browser: a prompt before leaving with unsaved changes (in-app links and
Back), Ctrl+S saving, renaming a task with every reference to it, a form edit of inputs keeping the comments, and
a viewer's editor read-only everywhere."""

from __future__ import annotations

import pytest

from tests.support.studio import api, open_flow, sign_in

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}

GUARDED = """\
id: guarded
namespace: studio.tests
tasks:
  - id: first
    type: log
    message: hello
"""

RENAMED = """\
# Greets, then repeats the greeting.
id: renamed
namespace: studio.tests
tasks:
  - id: first   # the first one
    type: return
    value: hello
  - id: second
    type: log
    dependsOn: [first]
    message: "got {{ outputs.first.value }} from {{ outputs['first'].value }}"
"""

COMMENTED = """\
id: commented
namespace: studio.tests
inputs:
  # Who to greet.
  - id: who   # a name
    type: STRING
    defaults: Ana  # the usual one
  # How many times.
  - {id: times, type: INT, defaults: 1}   # inline
triggers:
  - id: morning   # weekdays
    type: schedule
    cron: "0 9 * * 1-5"
tasks:
  - id: hi
    type: log
    message: "hi {{ inputs.who }}"
"""


def yaml_text(page) -> str:
    return page.locator("#yaml-editor .cm-content").inner_text()


def wait_yaml(page, text: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('#yaml-editor .cm-content')?.innerText.includes(t)", arg=text, timeout=10_000
    )


def saved(studio, flow_id: str) -> str:
    return api(studio).get(f"/api/v1/flows/studio.tests/{flow_id}", headers={"accept": "application/x-yaml"}).text


def wait_saved(page) -> None:
    page.wait_for_function("!document.querySelector('#dirty-badge')", timeout=10_000)


def wait_until(page, condition, seconds: float = 10) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("waited in vain")


def add_a_task(page) -> None:
    count = page.locator(".lanner-node").count()
    page.drag_and_drop(".palette-item[data-type='log']", ".react-flow__pane", target_position={"x": 200, "y": 300})
    page.wait_for_function(f"document.querySelectorAll('.lanner-node').length === {count + 1}", timeout=10_000)
    page.locator("#dirty-badge").wait_for(timeout=10_000)


def test_leaving_with_unsaved_changes_asks_first_by_link_and_by_back(studio, page):
    assert api(studio).post("/api/v1/flows", content=GUARDED, headers=YAML).is_success
    page.goto(f"{studio['url']}/flows")
    page.locator(".edit-link[href='/flows/studio.tests/guarded']").click()  # in-app: the router, not a reload
    page.locator(".lanner-node").first.wait_for(timeout=60_000)
    editor_url = page.url
    add_a_task(page)
    asked: list[str] = []

    def answer(accept: bool):
        def handle(dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    # Cancel keeps the person in the editor with their edit, whether they clicked a link or pressed Back.
    page.once("dialog", answer(False))
    page.locator(".nav-link[href='/dashboard']").click()
    wait_until(page, lambda: len(asked) == 1)
    page.wait_for_timeout(300)
    assert "unsaved changes" in asked[0]
    assert page.url == editor_url and "id: log_1" in yaml_text(page)
    page.once("dialog", answer(False))
    page.evaluate("history.back()")
    wait_until(page, lambda: len(asked) == 2)
    page.wait_for_timeout(300)
    assert page.url == editor_url and "id: log_1" in yaml_text(page)
    assert page.locator("#dirty-badge").count() == 1
    # A reload (or closing the tab) asks through the browser's own prompt; staying keeps the edit.
    kinds: list[str] = []
    page.once("dialog", lambda dialog: (kinds.append(dialog.type), asked.append(""), dialog.dismiss()))
    page.evaluate("setTimeout(() => location.reload(), 0)")
    wait_until(page, lambda: len(asked) == 3)
    page.wait_for_timeout(300)
    assert kinds == ["beforeunload"]
    assert page.url == editor_url and "id: log_1" in yaml_text(page)
    # Confirming leaves.
    page.once("dialog", answer(True))
    page.locator(".nav-link[href='/dashboard']").click()
    page.wait_for_url("**/dashboard*", timeout=10_000)
    assert len(asked) == 4
    assert "log_1" not in saved(studio, "guarded")  # nothing was saved on the way out


def test_ctrl_s_saves_from_the_canvas_the_form_and_the_yaml(studio, page):
    open_flow(studio, page, GUARDED.replace("id: guarded", "id: guarded_keys"), "guarded_keys")
    downloads: list[object] = []
    page.on("download", lambda download: downloads.append(download))
    # In a form field: the field is written, then the flow saved.
    page.locator(".react-flow__node[data-id='first']").click()
    page.locator("#form-panel .code-field[data-field='message'] .cm-content").click()
    page.keyboard.press("End")
    page.keyboard.type(" there")
    page.keyboard.press("Control+s")
    page.wait_for_function("() => (document.querySelector('#editor-message')?.innerText ?? '').includes('revision')")
    page.wait_for_function(
        "() => !document.querySelector('#dirty-badge')"
        " && (document.querySelector('#yaml-editor .cm-content')?.innerText ?? '').includes('hello there')",
        timeout=10_000,
    )
    assert "message: hello there" in saved(studio, "guarded_keys")
    # On the canvas.
    add_a_task(page)  # the focus is on the canvas
    page.keyboard.press("Control+s")
    wait_saved(page)
    assert "id: log_1" in saved(studio, "guarded_keys")
    # Inside CodeMirror, at once after typing (before the editor's pause sends the text).
    page.locator("#yaml-editor .cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("  - id: typed\n    type: log\n    message: typed then saved\n")
    page.keyboard.press("Control+s")
    wait_until(page, lambda: "message: typed then saved" in saved(studio, "guarded_keys"))
    wait_saved(page)
    assert page.locator("#dirty-badge").count() == 0 and not downloads  # no browser "Save as"


def test_renaming_a_task_renames_its_dependencies_and_expressions(studio, page):
    open_flow(studio, page, RENAMED, "renamed")
    page.locator(".react-flow__node[data-id='first']").click()
    field = page.locator("#task-id-field")
    field.wait_for(timeout=10_000)
    for refused, said in (("bad id", "not a valid task id"), ("second", "another task is already called 'second'")):
        field.fill(refused)
        field.press("Tab")
        # The previous refusal stays shown until the server answers this one: wait for this one's words.
        page.wait_for_function(
            "said => document.querySelector('#form-panel .field-error')?.innerText.includes(said)",
            arg=said,
            timeout=10_000,
        )
        assert page.locator("#dirty-badge").count() == 0  # the flow is as it was
    field.fill("greeting")
    field.press("Tab")
    wait_yaml(page, "dependsOn: [greeting]")
    assert page.locator("#form-panel .field-error").count() == 0
    page.locator(".react-flow__node[data-id='greeting']").wait_for(timeout=10_000)
    page.keyboard.press("Control+s")
    wait_saved(page)
    expected = (
        RENAMED.replace("- id: first   #", "- id: greeting   #")
        .replace("dependsOn: [first]", "dependsOn: [greeting]")
        .replace("outputs.first.", "outputs.greeting.")
        .replace("outputs['first']", "outputs['greeting']")
    )
    assert saved(studio, "renamed") == expected


def test_a_form_edit_of_one_input_keeps_every_other_byte(studio, page):
    open_flow(studio, page, COMMENTED, "commented")
    page.click("#more-menu")  # a secondary action: in the toolbar's menu
    page.click("#flow-settings-button")
    inputs = page.locator("#form-panel .record-field[data-field='inputs']")
    inputs.locator(".record-row").first.locator("input[name='defaults']").fill("Bea")
    page.locator("#form-panel .record-field[data-field='triggers'] input[name='cron']").click()  # leaves the inputs
    page.locator("#dirty-badge").wait_for(timeout=10_000)
    page.keyboard.press("Control+s")
    wait_saved(page)
    assert saved(studio, "commented") == COMMENTED.replace("defaults: Ana  #", "defaults: Bea  #")


def test_a_viewer_sees_the_editor_read_only(studio, browser):
    admin = api(studio)
    assert admin.post("/api/v1/flows", content=COMMENTED.replace("commented", "watched"), headers=YAML).is_success
    assert admin.post("/api/v1/users", json={"username": "reader", "password": "reader password 1"}).is_success
    assert admin.put("/api/v1/namespaces/studio.tests/members/reader", json={"role": "viewer"}).is_success
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        sign_in(context, studio["url"], "reader", "reader password 1")
        page = context.new_page()
        page.goto(f"{studio['url']}/flows/studio.tests/watched")
        page.locator(".lanner-node").first.wait_for(timeout=60_000)
        page.locator("#read-only-badge").wait_for(timeout=10_000)
        assert page.locator("#palette, #save-button, .palette-item").count() == 0
        assert page.locator("#yaml-editor .cm-content").get_attribute("contenteditable") == "false"
        page.locator(".react-flow__node[data-id='hi']").click()
        page.locator("#task-id-field").wait_for(timeout=10_000)
        assert page.locator("#task-id-field").is_disabled()
        message = page.locator("#form-panel .code-field[data-field='message'] .cm-content")
        assert message.get_attribute("contenteditable") == "false"
        page.click("#more-menu")
        page.click("#flow-settings-button")
        rows = page.locator("#form-panel .record-field[data-field='inputs']")
        rows.locator("input[name='defaults']").first.wait_for(timeout=10_000)
        fields = rows.locator("input, select")
        assert fields.count() > 0 and all(fields.nth(i).is_disabled() for i in range(fields.count()))
        assert page.locator("#form-panel .record-add, #form-panel .record-remove, #form-panel .kv-add").count() == 0
        assert page.locator("#form-panel input[name='timeout']").is_disabled()
        # Ctrl+S tells them why nothing is saved.
        page.locator(".react-flow__pane").click()
        page.keyboard.press("Control+s")
        page.wait_for_function("(document.querySelector('#editor-message')?.innerText ?? '').includes('read only')")
    finally:
        context.close()


UNREACHABLE = """\
id: unreachable
namespace: studio.tests
tasks:
  - id: q
    type: postgresql.query
    url: postgresql://postgres:pw-24680@127.0.0.1:1/test
    sql: SELECT 1
"""


def test_problems_and_connection_errors_read_for_people_with_the_raw_error_one_click_away(studio, page):
    open_flow(studio, page, UNREACHABLE, "unreachable")
    page.locator(".react-flow__node[data-id='q']").click()
    page.click("#test-connection")
    answer = page.locator("#connection-answer")
    answer.wait_for(timeout=20_000)
    assert "127.0.0.1:1 — is the service running?" in answer.inner_text()
    details = page.locator("#form-panel .connection-details")
    assert not details.locator("code").is_visible()  # the raw error waits behind "Details"
    details.locator("summary").click()
    raw = details.locator("code").inner_text()
    assert "refused" in raw.lower() and "pw-24680" not in raw + answer.inner_text()
    page.click("#pane-yaml")
    page.locator("#yaml-editor .cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("description: time: 10:00\n")
    line = page.locator(".problem-line").first
    line.wait_for(timeout=10_000)
    assert "YAML syntax error on line 8, column" in line.inner_text()
    assert "a colon needs a space after it, or quote the value" in line.inner_text()
    page.locator(".problem-details summary").first.click()
    assert "mapping values are not allowed" in page.locator(".problem-details code").first.inner_text()
