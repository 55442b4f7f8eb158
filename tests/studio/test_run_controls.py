"""What a run's controls offer follows the person's role and the run's state (issue 12, item 12): a viewer is
told Share needs the editor role before clicking; Kill is disabled once a run has ended; the badge shows the
run's end as soon as the nodes do."""

from __future__ import annotations

import pytest

from tests.support.studio import api, sign_in

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}
VIEWER = ("vic12", "vic12 password 123")
FLOW = (
    "id: quick\nnamespace: controls.ui\ntasks:\n"
    "  - {id: first, type: log, message: one}\n  - {id: second, type: log, message: two}\n"
)
ALL_DONE = "[...document.querySelectorAll('.lanner-node')].every(n => n.dataset.state === 'SUCCESS')"


@pytest.fixture(scope="module")
def ended(studio) -> str:
    """A finished execution of controls.ui, where VIEWER is a viewer."""
    admin = api(studio)
    assert admin.post("/api/v1/flows", content=FLOW, headers=YAML).is_success
    assert admin.post("/api/v1/users", json={"username": VIEWER[0], "password": VIEWER[1]}).is_success
    assert admin.put(f"/api/v1/namespaces/controls.ui/members/{VIEWER[0]}", json={"role": "viewer"}).is_success
    execution = admin.post("/api/v1/executions/trigger/controls.ui/quick", params={"wait": "true"}, json={}).json()
    assert execution["state"] == "SUCCESS", execution
    return execution["id"]


def test_a_viewer_sees_share_disabled_with_the_role_it_needs(studio, browser, ended):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        sign_in(context, studio["url"], *VIEWER)
        page = context.new_page()
        page.goto(f"{studio['url']}/executions/{ended}")
        page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=60_000)
        share = page.locator("#share-button")
        assert share.is_disabled()
        assert "needs the editor role on controls.ui" in share.get_attribute("title")
        page.locator("#share-refused").click(force=True)
        page.wait_for_timeout(500)
        assert page.locator("#share-create").count() == 0  # no dialog, no refusal to learn about afterwards
    finally:
        context.close()


def test_an_editor_still_gets_a_working_share_button(studio, page, ended):
    page.goto(f"{studio['url']}/executions/{ended}")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=60_000)
    assert page.locator("#share-button").is_enabled()
    page.click("#share-button")
    page.locator("#share-create").wait_for(timeout=10_000)


def test_the_editors_kill_is_disabled_and_the_badge_ended_once_the_nodes_are_done(studio, page, ended):
    page.goto(f"{studio['url']}/flows/controls.ui/quick")
    page.locator(".lanner-node").first.wait_for(timeout=60_000)
    page.click("#run-button")
    page.click("#start-run")
    page.locator("#kill-button").wait_for(timeout=15_000)
    page.wait_for_function(ALL_DONE, timeout=30_000)
    page.wait_for_function("(document.querySelector('#execution-state')?.innerText ?? '') === 'SUCCESS'", timeout=3_000)
    assert page.locator("#kill-button").is_disabled()


def test_the_execution_pages_badge_and_kill_follow_the_nodes(studio, page, ended):
    execution = api(studio).post("/api/v1/executions/trigger/controls.ui/quick", json={}).json()
    page.goto(f"{studio['url']}/executions/{execution['id']}")
    page.locator(".lanner-node").first.wait_for(timeout=60_000)
    page.wait_for_function(ALL_DONE, timeout=30_000)
    page.wait_for_function("(document.querySelector('#execution-state')?.innerText ?? '') === 'SUCCESS'", timeout=3_000)
    page.click("#tab-actions")
    assert page.locator("#kill-button").is_disabled()
