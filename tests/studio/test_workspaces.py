"""The workspaces issue's proof, in a real browser, on a studio started as on a fresh install (no user yet).

The administrator is created on the first screen; two people and two namespaces are made in the studio;
one namespace is shared with one person as viewer. That viewer sees it but cannot edit or run it; the
other person sees neither namespace, by any page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.support.studio import running_studio

pytestmark = pytest.mark.slow
BOSS = ("boss", "boss password 123")
VIC = ("vic", "vic password 1234")
OSCAR = ("oscar", "oscar password 123")


@pytest.fixture(scope="module")
def fresh_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_studio(tmp_path_factory.mktemp("fresh-studio"), admin=None) as running:
        yield running


def _sign_in(browser, url: str, username: str, password: str):
    """A new browser, signed in through the sign-in page's form, on the flows page."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.goto(f"{url}/flows/south/plan")  # a page needing sign-in: sent to the sign-in page, then back
    tab.wait_for_url(re.compile(r"/login/?\?next="), timeout=60_000)
    tab.fill("#username-field", username)
    tab.fill("#password-field", password)
    tab.click("#sign-in-submit")
    tab.wait_for_url(re.compile(r"/flows/south/plan/?$"), timeout=30_000)
    tab.locator("#signed-in-as").wait_for(timeout=60_000)
    assert tab.locator("#signed-in-as").inner_text() == username
    return context, tab


def _flow_rows(tab, url: str) -> set[str]:
    tab.goto(f"{url}/flows")
    tab.locator("#flow-search").wait_for(timeout=60_000)
    tab.wait_for_timeout(1500)  # the list comes with the page's state: let it arrive
    return {" ".join(row.inner_text().split()[:2]) for row in tab.locator("tr.flow-row").all()}


def test_an_administrator_shares_one_namespace_with_a_viewer_and_nobody_else(fresh_studio, browser):
    url = fresh_studio["url"]
    admin_context = browser.new_context(viewport={"width": 1400, "height": 900})
    admin = admin_context.new_page()
    # First start: every page asks for the administrator.
    admin.goto(f"{url}/flows")
    admin.wait_for_url(re.compile(r"/setup/?$"), timeout=60_000)
    admin.fill("#username-field", BOSS[0])
    admin.fill("#password-field", BOSS[1])
    admin.fill("#confirm-field", BOSS[1])
    admin.click("#sign-in-submit")
    admin.wait_for_url(re.compile(r"/flows/?$"), timeout=30_000)
    admin.locator("#signed-in-as").wait_for(timeout=60_000)
    assert admin.locator("#signed-in-as").inner_text() == BOSS[0]

    # Two people.
    admin.goto(f"{url}/users")
    admin.locator(f".user-row[data-username='{BOSS[0]}']").wait_for(timeout=60_000)
    for username, password in (VIC, OSCAR):
        admin.fill("input[name='username']", username)
        admin.fill("input[name='password']", password)
        admin.click("#create-user")
        admin.locator(f".user-row[data-username='{username}']").wait_for(timeout=10_000)

    # Two namespaces, each with a flow, made on the flows page.
    for namespace, flow_id in (("north", "report"), ("south", "plan")):
        admin.goto(f"{url}/flows")
        admin.locator("#create-flow").wait_for(timeout=60_000)
        admin.wait_for_timeout(1000)  # typed before the page's state arrives, text is lost
        admin.fill("input[name='new-namespace']", namespace)
        admin.fill("input[name='new-id']", flow_id)
        admin.click("#create-flow")
        admin.wait_for_url(re.compile(rf"/flows/{namespace}/{flow_id}/?$"), timeout=30_000)
        admin.locator(".react-flow__node[data-id='hello']").wait_for(timeout=60_000)
    assert _flow_rows(admin, url) >= {"north report", "south plan"}
    for namespace, flow_id in (("north", "report"), ("south", "plan")):  # a run in each, for the lists below
        ran = admin_context.request.post(f"{url}/api/v1/executions/trigger/{namespace}/{flow_id}?wait=true", data={})
        assert ran.ok and ran.json()["state"] == "SUCCESS", ran.text()

    # Share north with vic, as viewer, on the namespace's page.
    admin.goto(f"{url}/namespace?namespace=north")
    admin.locator("#invite-controls").wait_for(timeout=60_000)
    admin.wait_for_timeout(1000)
    admin.fill("input[name='invite_username']", VIC[0])  # the role selector starts at viewer
    admin.click("#invite-member")
    member = admin.locator(f"tr.member-row[data-name='{VIC[0]}']")
    member.wait_for(timeout=10_000)
    assert "viewer" in member.inner_text()
    admin_context.close()

    # vic sees north, read-only, and nothing of south.
    context, vic = _sign_in(browser, url, *VIC)
    try:
        vic.wait_for_timeout(1500)
        assert vic.locator(".react-flow__node").count() == 0  # south/plan was asked for: nothing of it shows
        assert _flow_rows(vic, url) == {"north report"}
        vic.goto(f"{url}/flows/north/report")
        vic.locator(".react-flow__node[data-id='hello']").wait_for(timeout=60_000)
        vic.locator("#read-only-badge").wait_for(timeout=10_000)
        for absent in ("#save-button", "#run-button", "#share-button", "#palette"):
            assert vic.locator(absent).count() == 0, absent
        assert vic.locator("#yaml-editor .cm-content").get_attribute("contenteditable") == "false"
        vic.click("#namespace-select")  # the sidebar offers exactly what vic may reach
        options = [option.inner_text() for option in vic.get_by_role("option").all()]
        assert options == ["all namespaces", "north"], options
        vic.get_by_role("option", name="all namespaces", exact=True).click()  # north is the one shown
        vic.wait_for_url(re.compile(r"/flows/?$"), timeout=30_000)
        vic.locator("tr.flow-row").first.wait_for(timeout=60_000)
        refused = context.request.post(f"{url}/api/v1/executions/trigger/north/report", data={})
        assert refused.status == 403 and "needs the operator role" in refused.json()["message"]
        vic.goto(f"{url}/executions")
        vic.locator("tr.execution-row").first.wait_for(timeout=60_000)
        vic.wait_for_timeout(1000)
        rows = vic.locator("tr.execution-row").all()
        assert len(rows) == 1 and "report" in rows[0].inner_text()
    finally:
        context.close()

    # oscar sees neither namespace, by any page.
    context, oscar = _sign_in(browser, url, *OSCAR)
    try:
        oscar.wait_for_timeout(1500)
        assert oscar.locator(".react-flow__node").count() == 0
        assert _flow_rows(oscar, url) == set()
        oscar.goto(f"{url}/flows/north/report")
        oscar.locator("#signed-in-as").wait_for(timeout=60_000)
        oscar.wait_for_timeout(2000)
        assert oscar.locator(".react-flow__node").count() == 0
        assert "Hello from report" not in oscar.content()
        oscar.goto(f"{url}/executions")
        oscar.locator("#signed-in-as").wait_for(timeout=60_000)
        oscar.wait_for_timeout(2000)
        assert oscar.locator("tr.execution-row").count() == 0
        oscar.goto(f"{url}/dashboard")
        oscar.locator("#signed-in-as").wait_for(timeout=60_000)
        oscar.wait_for_timeout(2000)
        assert "north" not in oscar.content() and "south" not in oscar.content()
        assert context.request.get(f"{url}/api/v1/flows/north/report").status == 404
    finally:
        context.close()
