"""The flows page in a real browser, against a real ``lanner server``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent.parent


def test_flows_page_lists_searches_and_shows_source(studio, page):
    page.goto(studio["url"] + "/flows")
    rows = page.locator("tr.flow-row")
    rows.first.wait_for(timeout=60_000)
    listed = "".join(rows.all_inner_texts())
    for flow_id in ("daily_sales", "fan_out", "routing", "on_order", "hello"):
        assert flow_id in listed

    page.fill("#flow-search", "daily_sales")  # ids, descriptions and the YAML text are searched
    page.wait_for_function("document.querySelectorAll('tr.flow-row').length === 2", timeout=15_000)
    assert "acme.sales" in rows.first.inner_text()  # daily_sales and its pandas variant

    rows.get_by_text("daily_sales", exact=True).click()
    source = page.locator("#flow-source")
    source.wait_for(timeout=15_000)
    assert "extract the day's sales" in source.inner_text() or "pipeline that motivates Lanner" in source.inner_text()
    if os.environ.get("LANNER_SCREENSHOTS"):
        (ROOT / "docs").mkdir(exist_ok=True)
        page.fill("#flow-search", "")
        page.wait_for_function("document.querySelectorAll('tr.flow-row').length >= 5", timeout=15_000)
        page.screenshot(path=str(ROOT / "docs" / "flows.png"))


def test_create_a_flow_open_it_in_the_editor_then_delete_it(studio, page):
    page.goto(studio["url"] + "/flows")
    page.locator("tr.flow-row").first.wait_for(timeout=60_000)
    page.fill("input[name='new-namespace']", "Bad Namespace")
    page.fill("input[name='new-id']", "made_here")
    page.click("#create-flow")
    page.locator("#flows-error").wait_for(timeout=10_000)
    assert "not a valid namespace" in page.locator("#flows-error").inner_text()
    page.fill("input[name='new-namespace']", "studio.made")
    page.click("#create-flow")
    page.wait_for_url("**/flows/studio.made/made_here", timeout=15_000)
    page.locator(".react-flow__node[data-id='hello']").wait_for(timeout=30_000)
    page.goto(studio["url"] + "/flows")
    row = page.locator("tr.flow-row", has_text="made_here")
    row.wait_for(timeout=30_000)
    row.locator(".delete-flow").click()  # it asks first: Cancel keeps the flow
    dialog = page.get_by_role("alertdialog")
    dialog.wait_for(timeout=10_000)
    assert "studio.made/made_here" in dialog.inner_text()
    dialog.locator(".cancel").click()
    dialog.wait_for(state="detached", timeout=10_000)
    assert row.is_visible()
    row.locator(".delete-flow").click()
    page.get_by_role("alertdialog").locator(".confirm-action").click()
    page.wait_for_function("!document.body.innerText.includes('made_here')", timeout=10_000)
