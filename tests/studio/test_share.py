"""Share links in a real browser: made from the editor and the execution page, opened by a stranger, revoked."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.identity.share_links import create_share_link
from engine.store.database import open_database, session_scope
from engine.store.tables import utcnow
from tests.support.studio import api

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}
FLOW = (
    "id: greet\nnamespace: share.ui\ntasks:\n"
    "  - {id: hello, type: log, message: hello visitor}\n  - {id: bye, type: log, message: goodbye visitor}\n"
)


@pytest.fixture(scope="module")
def ran(studio) -> dict:
    client = api(studio)
    assert client.post("/api/v1/flows", content=FLOW, headers=YAML).status_code in (200, 201)
    execution = client.post("/api/v1/executions/trigger/share.ui/greet", params={"wait": "true"}, json={}).json()
    assert execution["state"] == "SUCCESS", execution
    return execution


def make_link(page) -> str:
    page.click("#share-button")
    assert page.locator("#share-days").input_value() == "7"
    page.click("#share-create")
    page.locator("#share-url").wait_for(timeout=10_000)
    link = page.locator("#share-url").inner_text().strip()
    assert "/share/lns_" in link, link
    return link


def stranger(browser):
    """A new browser context: no cookies, no local storage, no studio session."""
    return browser.new_context(viewport={"width": 1400, "height": 900})


def test_a_flow_link_shows_the_canvas_and_yaml_until_revoked(studio, browser, page, ran):
    page.goto(f"{studio['url']}/flows/share.ui/greet")
    page.locator(".react-flow__node[data-id='hello']").wait_for(timeout=30_000)
    link = make_link(page)
    assert page.locator(".revoke-link").count() == 1
    context = stranger(browser)
    try:
        visitor = context.new_page()
        visitor.goto(link)
        visitor.locator(".react-flow__node[data-id='hello']").wait_for(timeout=30_000)
        assert visitor.locator(".react-flow__node[data-id='bye']").count() == 1
        assert "message: hello visitor" in visitor.locator("#shared-yaml").inner_text()
        for absent in (".nav-link", "#save-button", "#run-button", "#share-button", "#namespace-select"):
            assert visitor.locator(absent).count() == 0, absent
        page.locator(".revoke-link").first.click()
        page.wait_for_function("document.querySelectorAll('.revoke-link').length === 0", timeout=10_000)
        visitor.reload()
        visitor.locator("#share-invalid").wait_for(timeout=15_000)
        assert "expired or was revoked" in visitor.locator("#share-invalid").inner_text()
        assert visitor.locator(".react-flow__node").count() == 0
    finally:
        context.close()


def test_an_execution_link_shows_states_and_logs(studio, browser, page, ran):
    page.goto(f"{studio['url']}/executions/{ran['id']}")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=15_000)
    link = make_link(page)
    context = stranger(browser)
    try:
        visitor = context.new_page()
        visitor.goto(link)
        visitor.locator(".lanner-node[data-task-id='hello'][data-state='SUCCESS']").wait_for(timeout=30_000)
        assert visitor.locator(".lanner-node[data-task-id='bye'][data-state='SUCCESS']").count() == 1
        assert visitor.locator("#execution-state").inner_text() == "SUCCESS"
        visitor.click("#tab-logs")
        visitor.locator(".log-line").first.wait_for(timeout=10_000)
        text = visitor.locator("#log-panel").inner_text()
        assert "hello visitor" in text and "goodbye visitor" in text
        visitor.click("#tab-gantt")
        plot = "document.querySelector('#gantt.js-plotly-plot, #gantt .js-plotly-plot')"
        visitor.wait_for_function(f"{plot}?.data?.length > 0", timeout=15_000)
        bars = visitor.evaluate(f"() => {plot}.data.flatMap(t => t.y.map(y => [t.name, y]))")
        assert {("SUCCESS", "hello"), ("SUCCESS", "bye")} <= {tuple(b) for b in bars}, bars
        assert ran["id"] not in visitor.content()  # the execution's id is not given away either
        for absent in (".nav-link", "#kill-button", "#restart-button", "#replay-button", "#share-button"):
            assert visitor.locator(absent).count() == 0, absent
    finally:
        context.close()


def test_expired_and_unknown_links_are_invalid(studio, browser, ran):
    engine = open_database(f"sqlite:///{studio['home'] / 'lanner.db'}")
    try:
        with session_scope(engine) as session:
            _, plain = create_share_link(
                session, "flow", "share.ui", "greet", created_by="test", expires_at=utcnow() - dt.timedelta(minutes=1)
            )
    finally:
        engine.dispose()
    context = stranger(browser)
    try:
        visitor = context.new_page()
        for token in (plain, "lns_unknown", "not-even-a-token"):
            visitor.goto(f"{studio['url']}/share/{token}")
            visitor.locator("#share-invalid").wait_for(timeout=30_000)
            assert "This link has expired or was revoked" in visitor.locator("#share-invalid").inner_text()
    finally:
        context.close()
