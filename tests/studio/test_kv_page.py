"""The KV page in a real browser: entries set, inherited, edited and deleted, then read by a real run below."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

FLOW = """\
id: reads_kv
namespace: kvui.team
tasks:
  - {id: page, type: return, value: "{{ kv('cursor').page }}"}
"""


def test_set_inherit_edit_and_delete_entries_then_a_run_reads_them(studio, page, admin_api):
    page.goto(f"{studio['url']}/kv?namespace=kvui")
    # The heading names the namespace once the page's state has loaded: typing before that is lost.
    page.get_by_role("heading", name="KV store of kvui", exact=True).wait_for(timeout=60_000)
    page.fill("input[name='new_key']", "bad key")
    page.fill("input[name='new_value']", "1")
    page.click("#save-kv")
    page.locator("#kv-error").wait_for(timeout=10_000)
    assert "is not a key" in page.locator("#kv-error").inner_text()
    page.fill("input[name='new_key']", "cursor")
    page.fill("input[name='new_value']", '{"page": 2}')
    page.fill("input[name='new_ttl']", "1h")
    page.click("#save-kv")
    row = page.locator("tr.kv-row[data-key='cursor']")
    row.wait_for(timeout=10_000)
    assert "object" in row.inner_text() and '{"page": 2}' in row.inner_text()
    assert row.locator(".kv-expires").inner_text() != "never"

    page.goto(f"{studio['url']}/kv?namespace=kvui.team")
    page.get_by_role("heading", name="KV store of kvui.team", exact=True).wait_for(timeout=30_000)
    row = page.locator("tr.kv-row[data-key='cursor']")
    row.wait_for(timeout=30_000)
    assert "from kvui" in row.inner_text() and row.locator(".kv-delete").count() == 0  # the parent's entry
    headers = {"content-type": "application/x-yaml"}
    assert admin_api.post("/flows", content=FLOW, headers=headers).status_code in (200, 201)
    done = admin_api.post("/executions/trigger/kvui.team/reads_kv", params={"wait": "true"}, json={}).json()
    assert done["state"] == "SUCCESS" and done["taskRuns"][0]["outputs"] == {"value": 2}, done

    row.locator(".kv-edit").click()  # Edit fills the fields; saving sets the key on this namespace
    value = page.locator("input[name='new_value']")
    page.wait_for_function("document.querySelector(\"input[name='new_value']\").value !== ''", timeout=10_000)
    assert value.input_value() == '{"page": 2}' and page.locator("input[name='new_key']").input_value() == "cursor"
    value.fill('{"page": 3}')
    page.click("#save-kv")
    page.locator("tr.kv-row[data-origin='kvui.team']").wait_for(timeout=10_000)
    done = admin_api.post("/executions/trigger/kvui.team/reads_kv", params={"wait": "true"}, json={}).json()
    assert done["taskRuns"][0]["outputs"] == {"value": 3}, done

    page.locator("tr.kv-row[data-key='cursor'] .kv-delete").click()
    page.locator("tr.kv-row[data-origin='kvui']").wait_for(timeout=10_000)  # the parent's shows through again
    assert page.locator("tr.kv-row").count() == 1
