"""Variables and secrets of a namespace set in the studio, read by a real run below it."""

from __future__ import annotations

import pytest
from sqlmodel import select

pytestmark = pytest.mark.slow

FLOW = """\
id: reads_settings
namespace: nsui.team
tasks:
  - {id: say, type: log, message: "token={{ secret('API_TOKEN') }}"}
  - {id: region, type: return, value: "{{ vars.region }}"}
"""


def test_set_variables_and_secrets_then_a_run_reads_them(studio, page, admin_api):
    from engine.store.database import open_database, session_scope
    from engine.store.tables import LogLine, NamespaceSecret

    page.goto(f"{studio['url']}/namespace?namespace=nsui")
    # The heading names the namespace once the page's state has loaded: typing before that is lost.
    page.get_by_role("heading", name="Namespace nsui", exact=True).wait_for(timeout=60_000)
    page.fill("input[name='new_variable']", "bad name")
    page.click("#save-variable")
    page.locator("#namespace-error").wait_for(timeout=10_000)
    assert "is not a variable name" in page.locator("#namespace-error").inner_text()
    page.fill("input[name='new_variable']", "region")
    page.fill("input[name='new_value']", "eu")
    page.click("#save-variable")
    page.locator("tr.variable-row[data-name='region']").wait_for(timeout=10_000)

    page.goto(f"{studio['url']}/namespace?namespace=nsui.team")
    page.get_by_role("heading", name="Namespace nsui.team", exact=True).wait_for(timeout=30_000)
    row = page.locator("tr.variable-row[data-name='region']")
    row.wait_for(timeout=30_000)
    assert "from nsui" in row.inner_text()  # inherited from the parent
    page.fill("input[name='new_secret']", "API_TOKEN")
    page.fill("input[name='secret_value']", "tok-9f8e7d6c")
    page.click("#save-secret")
    page.locator("tr.secret-row[data-name='API_TOKEN']").wait_for(timeout=10_000)
    assert page.locator("input[name='secret_value']").input_value() == ""
    assert "tok-9f8e7d6c" not in page.content()

    database = open_database(f"sqlite:///{studio['home'] / 'lanner.db'}")
    with session_scope(database) as session:
        stored = session.exec(select(NamespaceSecret).where(NamespaceSecret.name == "API_TOKEN")).one()
        assert "tok-9f8e7d6c" not in stored.ciphertext

    headers = {"content-type": "application/x-yaml"}
    assert admin_api.post("/flows", content=FLOW, headers=headers).status_code in (200, 201)
    done = admin_api.post("/executions/trigger/nsui.team/reads_settings", params={"wait": "true"}, json={})
    execution = done.json()
    assert execution["state"] == "SUCCESS", execution
    region = next(run for run in execution["taskRuns"] if run["taskId"] == "region")
    assert region["outputs"] == {"value": "eu"}
    with session_scope(database) as session:
        lines = [line.message for line in session.exec(select(LogLine).where(LogLine.execution_id == execution["id"]))]
    assert "token=****" in lines and not any("tok-9f8e7d6c" in line for line in lines)

    page.goto(f"{studio['url']}/namespace?namespace=nsui")
    page.get_by_role("heading", name="Namespace nsui", exact=True).wait_for(timeout=30_000)
    page.locator("tr.variable-row[data-name='region']").get_by_role("button", name="Delete").click()
    page.wait_for_function("document.querySelectorAll('tr.variable-row').length === 0", timeout=10_000)

    page.goto(f"{studio['url']}/audit?namespace=nsui")  # the namespace and those below it
    page.locator("tr.audit-row").first.wait_for(timeout=30_000)
    text = page.locator("table").inner_text()
    for expected in ("admin\tdeleted\tnsui\tvariable region", "admin\tchanged\tnsui.team\tsecret API_TOKEN",
                     "\tran\tnsui.team\texecution " + execution["id"]):  # fmt: skip
        assert expected in text, text
    assert "tok-9f8e7d6c" not in text
