"""The Flows list's actions in a real browser against a real ``lanner server``: run a flow from its row, duplicate
it, export it as YAML or a namespace as a zip, search flows by their YAML, restore a deleted flow; a viewer can do
none of the changes (the service refuses them too)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from tests.support.studio import api, sign_in

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}
VIEWER = ("vic", "vic password 1234")
PLAIN = """\
# a comment the copy keeps
id: act_plain
namespace: studio.actions
description: A plain flow
tasks:
  - id: say
    type: log
    message: zebra-marker-7 lives only in this YAML   # searched for
"""
WITH_INPUTS = """\
id: act_inputs
namespace: studio.actions
inputs:
  - {id: who, type: STRING}
tasks:
  - {id: hi, type: log, message: "hi {{ inputs.who }}"}
"""
GONE = "id: act_gone\nnamespace: studio.actions\ntasks:\n  - {id: a, type: log, message: restored text}\n"


@pytest.fixture
def flows(studio, admin_api):
    for text in (PLAIN, WITH_INPUTS):
        assert admin_api.post("/flows", content=text, headers=YAML).is_success
    return studio


def _row(page, flow_id: str):
    row = page.locator("tr.flow-row", has=page.get_by_text(flow_id, exact=True))
    row.wait_for(timeout=60_000)
    return row


def test_run_a_flow_from_the_list(flows, page, admin_api):
    page.goto(flows["url"] + "/flows?namespace=studio.actions")
    _row(page, "act_plain").locator(".run-flow").click()
    link = page.locator("#started-link")
    link.wait_for(timeout=15_000)
    execution_id = link.get_attribute("href").rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while admin_api.get(f"/executions/{execution_id}").json()["state"] != "SUCCESS":
        assert time.monotonic() < deadline, "the run started from the list did not succeed"
        time.sleep(0.2)

    _row(page, "act_inputs").locator(".run-flow").click()  # it asks for inputs: the editor's Run dialog
    page.wait_for_url("**/flows/studio.actions/act_inputs?run=1", timeout=15_000)
    page.locator("#start-run").wait_for(timeout=30_000)
    assert page.locator("input[name='who']").is_visible()


def test_duplicate_a_flow(flows, page, admin_api):
    page.goto(flows["url"] + "/flows?namespace=studio.actions")
    _row(page, "act_plain").locator(".duplicate-flow").click()
    page.fill("#duplicate-id", "act_inputs")  # taken
    page.click("#confirm-duplicate")
    page.locator("#duplicate-error").wait_for(timeout=10_000)
    assert "already exists" in page.locator("#duplicate-error").inner_text()
    page.fill("#duplicate-id", "act_copy")
    page.fill("#duplicate-namespace", "studio.actions.copies")
    page.click("#confirm-duplicate")
    page.wait_for_url("**/flows/studio.actions.copies/act_copy", timeout=15_000)
    copied = admin_api.get("/flows/studio.actions.copies/act_copy", headers={"accept": "application/x-yaml"}).text
    expected = PLAIN.replace("id: act_plain", "id: act_copy").replace(
        "namespace: studio.actions", "namespace: studio.actions.copies"
    )
    assert copied == expected  # byte for byte, comments included
    assert admin_api.get("/flows/studio.actions/act_plain").is_success  # the original stays


def test_export_a_flow_and_a_namespace(flows, page):
    page.goto(flows["url"] + "/flows?namespace=studio.actions")
    with page.expect_download(timeout=15_000) as download:
        _row(page, "act_plain").locator(".export-flow").click()
    assert download.value.suggested_filename == "studio.actions.act_plain.yml"
    assert Path(download.value.path()).read_text(encoding="utf-8") == PLAIN
    with page.expect_download(timeout=15_000) as download:
        page.click("#export-namespace")
    assert download.value.suggested_filename == "studio.actions.zip"
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as archive:
        names = set(archive.namelist())
        assert {"studio.actions.act_plain.yml", "studio.actions.act_inputs.yml"} <= names
        assert archive.read("studio.actions.act_plain.yml").decode() == PLAIN
        assert not [name for name in names if not name.startswith("studio.actions")]


def test_search_matches_the_yaml_text(flows, page):
    page.goto(flows["url"] + "/flows")
    page.locator("tr.flow-row").first.wait_for(timeout=60_000)
    page.fill("#flow-search", "ZEBRA-marker")  # in a log message only, any case
    page.wait_for_function("document.querySelectorAll('tr.flow-row').length <= 2", timeout=15_000)
    found = page.locator("tr.flow-row").all_inner_texts()  # act_plain, and its copy if the duplicate test ran
    assert any("act_plain" in row for row in found) and all("act_plain" in r or "act_copy" in r for r in found)
    assert not any("act_inputs" in row for row in found)
    page.fill("#flow-search", "type: STRING")  # YAML text: act_inputs declares a STRING input, act_plain none
    rows = "Array.from(document.querySelectorAll('tr.flow-row')).map(r => r.innerText).join(' ')"
    page.wait_for_function(f"{rows}.includes('act_inputs') && !{rows}.includes('act_plain')", timeout=15_000)


def test_restore_a_recently_deleted_flow(flows, page, admin_api):
    assert admin_api.post("/flows", content=GONE, headers=YAML).is_success
    assert admin_api.delete("/flows/studio.actions/act_gone").status_code == 204
    page.goto(flows["url"] + "/flows?namespace=studio.actions")
    _row(page, "act_plain")
    assert page.locator("tr.flow-row", has=page.get_by_text("act_gone", exact=True)).count() == 0
    page.click("#recently-deleted")
    deleted = page.locator("tr.deleted-row", has=page.get_by_text("act_gone", exact=True))
    deleted.wait_for(timeout=15_000)
    deleted.locator(".restore-flow").click()
    page.locator("#flows-notice").wait_for(timeout=15_000)
    assert "restored studio.actions/act_gone" in page.locator("#flows-notice").inner_text()
    _row(page, "act_gone")
    assert admin_api.get("/flows/studio.actions/act_gone", headers={"accept": "application/x-yaml"}).text == GONE
    trail = admin_api.get("/audit", params={"namespace": "studio.actions"}).json()
    assert any(e["action"] == "restored" and e["target_id"] == "act_gone" for e in trail)


def test_a_viewer_can_do_none_of_the_changes(flows, browser, admin_api):
    admin_api.post("/users", json={"username": VIEWER[0], "password": VIEWER[1]})
    assert admin_api.put(f"/namespaces/studio.actions/members/{VIEWER[0]}", json={"role": "viewer"}).is_success
    assert admin_api.post("/flows", content=GONE, headers=YAML).is_success
    assert admin_api.delete("/flows/studio.actions/act_gone").status_code == 204
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        sign_in(context, flows["url"], *VIEWER)
        page = context.new_page()
        page.goto(flows["url"] + "/flows")
        row = _row(page, "act_plain")
        assert row.locator(".run-flow, .duplicate-flow, .delete-flow").count() == 0
        assert page.locator("#recently-deleted").count() == 0
        assert row.locator(".export-flow").count() == 1  # reading the YAML is what a viewer may do
    finally:
        context.close()
    viewer = api(flows, *VIEWER)
    assert viewer.post("/api/v1/flows/studio.actions/act_gone/restore").status_code == 403
    assert viewer.post("/api/v1/executions/trigger/studio.actions/act_plain", json={}).status_code == 403
    copy = PLAIN.replace("id: act_plain", "id: act_viewer_copy")
    assert viewer.post("/api/v1/flows", content=copy, headers=YAML).status_code == 403
    assert admin_api.post("/flows/studio.actions/act_gone/restore").is_success  # it was still deleted


def test_the_services_refuse_a_viewer_and_search_in_sql(db):
    """The path of the studio's events, without a browser: a viewer of the namespace is refused every change,
    reads only what they may, and the content search is done by the database."""
    from engine.identity import authz
    from engine.identity.policy import Principal, Role
    from engine.services.flow_deploy import deploy_flow
    from engine.store.database import session_scope
    from studio.services import flows as flow_services
    from studio.services import runs as run_services

    with session_scope(db) as session:
        for text in (PLAIN, GONE, PLAIN.replace("studio.actions", "elsewhere")):
            deploy_flow(session, text, author="test")
    admin = Principal("root", is_admin=True)
    flow_services.delete_flow(admin, "studio.actions", "act_gone")
    viewer = Principal("vic", memberships={"studio.actions": Role.VIEWER})
    editor = Principal("eddie", memberships={"studio.actions": Role.EDITOR})

    refusals = {
        "duplicate": lambda: flow_services.duplicate_flow(viewer, "studio.actions", "act_plain", "mine"),
        "restore": lambda: flow_services.restore_flow(viewer, "studio.actions", "act_gone"),
        "run": lambda: run_services.start_run(viewer, "studio.actions", "act_plain", {}),
        "test": lambda: run_services.start_task_test(viewer, "studio.actions", "act_plain", "say"),
        "duplicate elsewhere": lambda: flow_services.duplicate_flow(
            editor, "studio.actions", "act_plain", "x", "other"
        ),
    }
    for what, action in refusals.items():
        with pytest.raises((authz.Forbidden, authz.NotVisible)):
            action()
            pytest.fail(f"a viewer could {what}")
    assert flow_services.deleted_flows(viewer) == []  # restoring is for editors: the list is theirs
    assert [f.flow_id for f in flow_services.deleted_flows(editor)] == ["act_gone"]
    with pytest.raises(authz.NotVisible):
        flow_services.export_flow(viewer, "elsewhere", "act_plain")
    names = zipfile.ZipFile(io.BytesIO(flow_services.export_namespace(viewer, None)[1])).namelist()
    assert names == ["studio.actions.act_plain.yml"]  # nothing of a namespace they may not read

    found = flow_services.list_flows(viewer, None, "ZEBRA-MARKER")
    assert [(f.namespace, f.flow_id) for f in found] == [("studio.actions", "act_plain")]
    assert flow_services.list_flows(admin, None, "zebra-marker-7 lives") != found  # the admin reads elsewhere too
    assert flow_services.list_flows(admin, None, "100%_") == []  # LIKE wildcards are plain text
