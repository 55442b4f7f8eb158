"""Members in a real browser: an administrator invites a viewer, who then sees the namespace and its flow read-only."""

from __future__ import annotations

import pytest

from tests.support.studio import sign_in

pytestmark = pytest.mark.slow

FLOW = "id: team_flow\nnamespace: members.ui\ntasks:\n  - {id: hello, type: log, message: hello team}\n"
VIEWER = ("vicky", "vicky password 123")


def test_an_invited_viewer_sees_the_namespace_and_its_flow_read_only(studio, browser, page, admin_api):
    assert admin_api.post("/flows", content=FLOW, headers={"content-type": "application/x-yaml"}).status_code in (
        200,
        201,
    )
    created = admin_api.post("/users", json={"username": VIEWER[0], "password": VIEWER[1]})
    assert created.status_code == 201, created.text

    page.goto(f"{studio['url']}/namespace?namespace=members.ui")
    page.get_by_role("heading", name="Namespace members.ui", exact=True).wait_for(timeout=60_000)
    page.locator("#invite-controls").wait_for(timeout=30_000)
    page.fill("input[name='invite_username']", "nobody")
    page.click("#invite-member")
    page.locator("#namespace-error").wait_for(timeout=10_000)
    assert "no user nobody" in page.locator("#namespace-error").inner_text()
    page.fill("input[name='invite_username']", VIEWER[0])  # the role selector starts at viewer
    page.click("#invite-member")
    row = page.locator(f"tr.member-row[data-name='{VIEWER[0]}']")
    row.wait_for(timeout=10_000)
    assert row.locator("button.remove-member").count() == 1  # the administrator may change it

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        sign_in(context, studio["url"], *VIEWER)
        viewer = context.new_page()
        viewer.goto(f"{studio['url']}/namespace?namespace=members.ui")
        own = viewer.locator(f"tr.member-row[data-name='{VIEWER[0]}']")
        own.wait_for(timeout=60_000)
        assert "viewer" in own.inner_text() and "this namespace" in own.inner_text()
        for absent in ("#invite-controls", "#invite-member", "button.remove-member", "#save-variable", "#save-secret"):
            assert viewer.locator(absent).count() == 0, absent
        assert viewer.locator("#signed-in-as").inner_text() == VIEWER[0]

        viewer.goto(f"{studio['url']}/flows/members.ui/team_flow")
        viewer.locator(".react-flow__node[data-id='hello']").wait_for(timeout=60_000)
        badge = viewer.locator("#read-only-badge")
        badge.wait_for(timeout=10_000)
        assert "you are a viewer of members.ui" in badge.inner_text()
        assert "message: hello team" in viewer.locator("#yaml-editor .cm-content").inner_text()
        assert viewer.locator("#yaml-editor .cm-content").get_attribute("contenteditable") == "false"
        for absent in ("#save-button", "#run-button", "#share-button", "#palette"):
            assert viewer.locator(absent).count() == 0, absent
    finally:
        context.close()
