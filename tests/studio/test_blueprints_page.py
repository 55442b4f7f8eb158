"""The blueprints page in a real browser: filter the gallery, use a blueprint, land in the editor with its flow."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

SEED = """\
id: seed
namespace: bpui.team
tasks:
  - {id: hi, type: log, message: hi}
"""


def test_filter_the_gallery_and_use_a_blueprint(studio, page, admin_api):
    # The dialog offers the existing namespaces the person edits: one flow makes bpui.team exist.
    assert admin_api.post("/flows", content=SEED, headers={"content-type": "application/x-yaml"}).is_success
    page.goto(studio["url"] + "/blueprints")
    page.locator(".blueprint-card").first.wait_for(timeout=60_000)
    assert page.locator(".blueprint-card").count() >= 12

    page.click("#category")
    page.get_by_role("option", name="Getting started", exact=True).click()
    page.wait_for_function("document.querySelectorAll('.blueprint-card').length === 1", timeout=10_000)
    assert page.locator("#blueprint-hello_world").count() == 1
    page.click("#category")
    page.get_by_role("option", name="All", exact=True).click()
    page.fill("#blueprint-search", "teams")
    page.wait_for_function("document.querySelectorAll('.blueprint-card').length === 2", timeout=10_000)
    card = page.locator("#blueprint-failed_run_alert_teams")
    assert "notify.teams" in card.locator(".task-chip").all_inner_texts()
    page.fill("#blueprint-search", "hello")
    page.locator("#blueprint-hello_world").wait_for(timeout=10_000)

    page.locator("#blueprint-hello_world .use-blueprint").click()
    page.locator("#use-flow-id").wait_for(timeout=10_000)
    assert page.locator("#use-flow-id").input_value() == "hello_world"  # prefilled with the blueprint's id
    page.click("#use-namespace")
    page.get_by_role("option", name="bpui.team", exact=True).click()
    page.fill("#use-flow-id", "Bad Id")
    page.click("#use-create")
    page.locator("#use-error").wait_for(timeout=10_000)
    assert "not a valid flow id" in page.locator("#use-error").inner_text()
    page.fill("#use-flow-id", "greet")
    page.click("#use-create")
    page.wait_for_url("**/flows/bpui.team/greet", timeout=15_000)
    page.locator(".react-flow__node[data-id='say']").wait_for(timeout=30_000)
    page.wait_for_function(
        "(document.querySelector('#yaml-editor .cm-content')?.innerText ?? '').includes('The smallest useful flow')",
        timeout=10_000,
    )
    flow = admin_api.get("/flows/bpui.team/greet").json()
    assert "id: greet\nnamespace: bpui.team\n" in flow["source"]
