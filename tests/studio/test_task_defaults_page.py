"""Task defaults on the namespace page, and the editor's Test connection button, in a real browser."""

from __future__ import annotations

import pytest

from engine.tasks import registry
from tests.support.postgres import postgres_admin
from tests.support.studio import open_flow

pytestmark = pytest.mark.slow

GOOD = "- type: http.request\n  values:\n    headers: {X-Team: sales}\n"


def test_namespace_task_defaults_box_refuses_bad_yaml_and_saves_good(studio, page, admin_api):
    page.goto(f"{studio['url']}/namespace?namespace=tdui")
    page.get_by_role("heading", name="Namespace tdui", exact=True).wait_for(timeout=60_000)
    box = page.locator("#task-defaults")
    box.fill("- type: http.requets\n  values: {uri: x}\n")
    page.click("#save-task-defaults")
    problems = page.locator("#task-defaults-problems")
    problems.wait_for(timeout=10_000)
    assert "1:9" in problems.inner_text() and "did you mean 'http.request'" in problems.inner_text()
    box.fill(GOOD)
    page.click("#save-task-defaults")
    page.get_by_text("1 task default(s) saved").wait_for(timeout=10_000)
    assert admin_api.get("/namespaces/tdui/task-defaults").json()["source"] == GOOD
    page.goto(f"{studio['url']}/namespace?namespace=tdui.eu")
    page.get_by_role("heading", name="Namespace tdui.eu", exact=True).wait_for(timeout=60_000)
    page.locator("#inherited-task-defaults").wait_for(timeout=10_000)
    assert "# from tdui" in page.locator("#inherited-task-defaults").inner_text()


def test_test_connection_button_answers_inline(studio, page):
    if not registry.get("postgresql.query") or postgres_admin() is None:
        pytest.skip("needs the postgresql.* task types (connectors branch) and PostgreSQL on 127.0.0.1:5432")
    flow = """\
id: conn_demo
namespace: studio.tests
tasks:
  - id: q
    type: postgresql.query
    url: postgresql://postgres:pw-98765@127.0.0.1:1/test
    sql: SELECT 1
"""
    open_flow(studio, page, flow, "conn_demo")
    page.locator(".react-flow__node[data-id='q']").click()
    page.click("#test-connection")
    answer = page.locator("#connection-answer")
    answer.wait_for(timeout=20_000)
    assert answer.get_attribute("data-ok") == "false" and "could not connect" in answer.inner_text()
    assert "pw-98765" not in answer.inner_text()
