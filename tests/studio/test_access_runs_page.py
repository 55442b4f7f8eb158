"""Access in the live pages, in a real browser: a viewer follows a running execution without action buttons,
sees nothing of other namespaces, and the live updates stop as soon as their role is removed."""

from __future__ import annotations

import pytest

from tests.support.studio import api, sign_in

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}
WATCHER = ("watcher", "watcher password 1")
FLOW = "id: nap\nnamespace: {namespace}\ntasks:\n  - {{id: nap, type: sleep, duration: 120s}}\n"


def test_a_removed_role_stops_the_live_list_and_execution_page(studio, browser):
    admin = api(studio)
    started = {}
    for namespace in ("live.access", "live.hidden"):
        assert admin.post("/api/v1/flows", content=FLOW.format(namespace=namespace), headers=YAML).is_success
        started[namespace] = admin.post(f"/api/v1/executions/trigger/{namespace}/nap", json={}).json()["id"]
    assert admin.post("/api/v1/users", json={"username": WATCHER[0], "password": WATCHER[1]}).is_success
    member = f"/api/v1/namespaces/live.access/members/{WATCHER[0]}"
    assert admin.put(member, json={"role": "viewer"}).is_success
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        sign_in(context, studio["url"], *WATCHER)
        listing, page = context.new_page(), context.new_page()
        listing.goto(f"{studio['url']}/executions")
        listing.wait_for_selector(f"tr.execution-row[data-id='{started['live.access']}']", timeout=30_000)
        assert listing.locator("tr.execution-row").count() == 1  # nothing of live.hidden
        assert listing.locator("#bulk-kill, #bulk-restart, #bulk-delete").count() == 0
        page.goto(f"{studio['url']}/executions/{started['live.access']}")
        page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'RUNNING'", timeout=30_000)
        page.click("#tab-actions")
        page.locator("#read-only").wait_for(timeout=10_000)
        assert page.locator("#kill-button, #restart-button, #replay-button").count() == 0
        page.goto(f"{studio['url']}/executions/{started['live.hidden']}")
        page.locator("#execution-missing").wait_for(timeout=15_000)
        assert f"no execution {started['live.hidden']}" in page.locator("#execution-missing").inner_text()
        page.goto(f"{studio['url']}/executions/{started['live.access']}")
        page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'RUNNING'", timeout=30_000)

        assert admin.delete(member).is_success  # both tabs stay open: the next tick must notice
        page.locator("#execution-missing").wait_for(timeout=5_000)
        assert page.locator("#execution-state").count() == 0
        listing.wait_for_function("document.querySelectorAll('tr.execution-row').length === 0", timeout=5_000)
    finally:
        context.close()
        for execution_id in started.values():
            admin.post(f"/api/v1/executions/{execution_id}/kill")
