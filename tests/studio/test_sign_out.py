"""One tab, two people: signing out and in as someone else leaves nothing of the first person's pages, and a
flow the person may not read shows nothing of anything (issue 12, item 5)."""

from __future__ import annotations

import re

import pytest

from tests.support.studio import api

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}
ADA = ("ada", "ada password 1234")  # a viewer of acme only
SECRET = "globex-payroll-marker"
PAYROLL = f"id: payroll\nnamespace: globex\ntasks:\n  - {{id: pay, type: log, message: {SECRET}}}\n"
REPORT = "id: report\nnamespace: acme\ntasks:\n  - {id: tally, type: log, message: acme report}\n"


@pytest.fixture(scope="module")
def people(studio) -> None:
    admin = api(studio)
    for flow in (PAYROLL, REPORT):
        assert admin.post("/api/v1/flows", content=flow, headers=YAML).is_success
    assert admin.post("/api/v1/users", json={"username": ADA[0], "password": ADA[1]}).is_success
    assert admin.put(f"/api/v1/namespaces/acme/members/{ADA[0]}", json={"role": "viewer"}).is_success


@pytest.fixture
def tab(browser):
    """A tab signed in by nobody yet: people sign in through the sign-in page's form, as in the issue."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.received = []  # every websocket frame the studio sent to this tab
    tab.on("websocket", lambda ws: ws.on("framereceived", lambda frame: tab.received.append(str(frame))))
    yield tab
    context.close()


def form_sign_in(tab, url: str, username: str, password: str) -> None:
    if "/login" not in tab.url:
        tab.goto(f"{url}/login")
    tab.locator("#username-field").wait_for(timeout=60_000)
    tab.fill("#username-field", username)
    tab.fill("#password-field", password)
    tab.click("#sign-in-submit")
    tab.wait_for_url(re.compile(r"/flows/?$"), timeout=30_000)
    tab.wait_for_function(f"document.querySelector('#signed-in-as')?.innerText === '{username}'", timeout=60_000)


def test_the_next_person_in_the_same_tab_sees_nothing_of_the_previous_ones_flows(studio, people, tab):
    url = studio["url"]
    form_sign_in(tab, url, *studio["admin"])
    tab.locator("tr.flow-row", has_text="payroll").locator("a", has_text="payroll").click()
    tab.wait_for_function(f"document.querySelector('#flow-source')?.innerText.includes('{SECRET}')", timeout=15_000)
    tab.goto(f"{url}/flows/globex/payroll")
    tab.locator(".react-flow__node[data-id='pay']").wait_for(timeout=30_000)

    admins_token = tab.evaluate("window.sessionStorage.getItem('token')")
    tab.click("#sign-out")
    tab.wait_for_url(re.compile(r"/login"), timeout=30_000)
    tab.received.clear()
    form_sign_in(tab, url, *ADA)
    assert tab.evaluate("window.sessionStorage.getItem('token')") not in (admins_token, None)  # a new tab state
    tab.locator("tr.flow-row", has_text="report").wait_for(timeout=30_000)
    tab.wait_for_timeout(1000)  # whatever else the page's state holds has arrived by now
    assert tab.locator("#flow-source").count() == 0
    assert "globex" not in tab.content()

    tab.goto(f"{url}/flows/globex/payroll")
    tab.locator("#flow-missing").wait_for(timeout=30_000)
    assert tab.locator("#flow-missing").inner_text() == "no flow globex/payroll"
    tab.wait_for_timeout(1000)
    assert tab.locator(".react-flow__node, #yaml-editor, #run-button").count() == 0
    assert SECRET not in tab.content()
    assert not [frame for frame in tab.received if SECRET in frame], "the payroll flow reached the viewer's tab"


def test_a_refused_flow_shows_nothing_of_the_flow_opened_before(studio, people, tab):
    url = studio["url"]
    form_sign_in(tab, url, *ADA)
    tab.goto(f"{url}/flows/acme/report")
    tab.locator(".react-flow__node[data-id='tally']").wait_for(timeout=30_000)

    tab.goto(f"{url}/flows/globex/payroll")
    tab.locator("#flow-missing").wait_for(timeout=30_000)
    tab.wait_for_timeout(1000)
    assert tab.locator(".react-flow__node, #yaml-editor, #run-button").count() == 0
    assert "acme report" not in tab.content() and "tally" not in tab.content()
    # The same by a link inside the studio (no page load): the editor state of the report is not shown either.
    tab.goto(f"{url}/flows/acme/report")
    tab.locator(".react-flow__node[data-id='tally']").wait_for(timeout=30_000)
    tab.evaluate(
        "window.history.pushState({}, '', '/flows/globex/payroll'); dispatchEvent(new PopStateEvent('popstate'))"
    )
    tab.locator("#flow-missing").wait_for(timeout=30_000)
    assert tab.locator(".react-flow__node").count() == 0
