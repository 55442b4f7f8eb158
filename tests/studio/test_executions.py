"""Executions list and execution page in a real browser: filter, inspect a failure, restart it, Gantt data."""

from __future__ import annotations

import pytest

from tests.support.studio import api

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}


def deploy_and_run(studio, source: str, namespace: str, flow_id: str, times: int = 1) -> list[dict]:
    url = studio["url"] + "/api/v1"
    assert api(studio).post(f"{url}/flows", content=source, headers=YAML, timeout=30).status_code in (200, 201)
    return [
        api(studio)
        .post(f"{url}/executions/trigger/{namespace}/{flow_id}", params={"wait": "true"}, json={}, timeout=60)
        .json()
        for _ in range(times)
    ]


def rows(page) -> int:
    return page.locator("tr.execution-row").count()


def wait_rows(page, count: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('tr.execution-row').length === {count}", timeout=15_000)


def test_filter_sort_and_bulk_delete_in_the_executions_list(studio, page):
    ok = "id: ok_flow\nnamespace: exec.list\ntasks:\n  - {id: hi, type: log, message: fine}\n"
    bad = "id: bad_flow\nnamespace: exec.list\ntasks:\n  - {id: stop, type: fail, message: broken}\n"
    done = deploy_and_run(studio, ok, "exec.list", "ok_flow", times=2)
    failed = deploy_and_run(studio, bad, "exec.list", "bad_flow")[0]
    assert [e["state"] for e in done] == ["SUCCESS", "SUCCESS"] and failed["state"] == "FAILED"
    page.goto(f"{studio['url']}/executions?namespace=exec.list")
    wait_rows(page, 3)
    page.click("#state-filter")
    page.get_by_role("option", name="FAILED", exact=True).click()
    wait_rows(page, 1)
    assert page.locator("tr.execution-row").first.get_attribute("data-id") == failed["id"]
    page.goto(f"{studio['url']}/executions?namespace=exec.list&state=SUCCESS")  # as a chart's bar links it
    wait_rows(page, 2)
    page.goto(f"{studio['url']}/executions?namespace=exec.list")
    wait_rows(page, 3)
    page.fill("input[name='flow_id']", "bad_flow")
    wait_rows(page, 1)
    page.fill("input[name='flow_id']", "")
    wait_rows(page, 3)
    page.click("#sort-flow")  # flow ascending: bad_flow first
    page.wait_for_function(
        f"document.querySelector('tr.execution-row')?.getAttribute('data-id') === '{failed['id']}'", timeout=10_000
    )
    page.locator("tr.execution-row").first.locator(".pick").click()
    page.click("#bulk-delete")
    wait_rows(page, 2)
    assert "deleted 1 execution(s)" in page.locator("#executions-notice").inner_text()
    assert api(studio).get(f"{studio['url']}/api/v1/executions/{failed['id']}", timeout=10).status_code == 404


def test_a_failed_execution_shows_why_and_a_restart_succeeds(studio, page, tmp_path):
    marker = tmp_path / "second-time"
    flow = (
        "id: flaky\nnamespace: exec.page\ntasks:\n  - {id: prepare, type: log, message: preparing}\n"
        "  - id: flaky\n    type: python\n    script: |\n      import pathlib, sys\n"
        f"      marker = pathlib.Path({str(marker)!r})\n"
        "      if not marker.exists():\n          marker.touch()\n"
        "          sys.exit('the first attempt fails on purpose')\n      print('second time lucky')\n"
    )
    failed = deploy_and_run(studio, flow, "exec.page", "flaky")[0]
    assert failed["state"] == "FAILED"
    page.goto(f"{studio['url']}/executions?namespace=exec.page&state=FAILED")
    wait_rows(page, 1)
    page.locator("a.execution-link").first.click()
    page.wait_for_url(f"**/executions/{failed['id']}", timeout=15_000)
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'FAILED'", timeout=15_000)
    assert page.locator(".lanner-node[data-task-id='flaky'][data-state='FAILED']").count() == 1
    page.click("#tab-logs")
    page.locator(".log-line").first.wait_for(timeout=10_000)
    assert "the first attempt fails on purpose" in page.locator("#log-panel").inner_text()
    page.click("#tab-actions")
    page.click("#restart-button")
    try:
        page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    except Exception:
        shown = page.locator("#execution-state").inner_text(), page.locator("#execution-message").inner_text()
        stored = api(studio).get(f"{studio['url']}/api/v1/executions/{failed['id']}", timeout=10).json()["state"]
        raise AssertionError(f"the page shows {shown}, the execution is {stored}") from None
    page.click("#tab-logs")
    page.wait_for_function(
        "document.querySelector('#log-panel')?.innerText.includes('second time lucky')", timeout=10_000
    )
    # The button is a plain link to the API's streamed download: the log never goes through the page's state.
    link = f"/api/v1/logs/{failed['id']}/download"
    assert page.locator("#download-logs").get_attribute("href") == link
    with page.expect_download(timeout=15_000) as download:
        page.click("#download-logs")
    assert download.value.url == studio["url"] + link
    saved = download.value.path().read_text()
    assert download.value.suggested_filename == f"{failed['id']}.log"
    assert "the first attempt fails on purpose" in saved and "second time lucky" in saved
    assert saved.splitlines()[0].endswith(" INFO  prepare preparing")
    page.click("#tab-gantt")
    plot = "document.querySelector('#gantt.js-plotly-plot, #gantt .js-plotly-plot')"
    try:
        page.wait_for_function(f"{plot}?.data?.length > 0", timeout=15_000)
    except Exception:
        page.screenshot(path="/tmp/gantt-fail.png")
        raise
    traces = page.evaluate(f"() => {plot}.data.map(t => [t.name, t.y.slice()])")
    if __import__("os").environ.get("LANNER_SCREENSHOTS"):
        docs = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs"
        page.screenshot(path=str(docs / "gantt.png"), full_page=True)
    bars = {(name, label) for name, labels in traces for label in labels}
    assert {("FAILED", "flaky"), ("SUCCESS", "flaky #2"), ("SUCCESS", "prepare")} <= bars, traces
    page.click("#revision-link")  # the revision that ran, in the editor
    page.locator(".react-flow__node[data-id='flaky']").wait_for(timeout=30_000)
    assert "revision 1 shown" in page.locator("#editor-message").inner_text()


def test_running_rows_follow_live_and_bulk_kill(studio, page):
    url = studio["url"] + "/api/v1"
    started = {}
    for flow_id, seconds in (("nap_short", 2), ("nap_long", 120)):
        flow = f"id: {flow_id}\nnamespace: exec.live\ntasks:\n  - {{id: nap, type: sleep, duration: {seconds}s}}\n"
        assert api(studio).post(f"{url}/flows", content=flow, headers=YAML, timeout=30).status_code in (200, 201)
        started[flow_id] = api(studio).post(f"{url}/executions/trigger/exec.live/{flow_id}", json={}, timeout=30).json()
    short, long = started["nap_short"], started["nap_long"]
    page.goto(f"{studio['url']}/executions?namespace=exec.live")
    wait_rows(page, 2)
    row = f"tr.execution-row[data-id='{short['id']}']"
    page.wait_for_function(
        f"document.querySelector(\"{row}\")?.getAttribute('data-state') === 'SUCCESS'", timeout=30_000
    )
    page.locator(f"tr.execution-row[data-id='{long['id']}'] .pick").click()
    page.click("#bulk-kill")
    page.wait_for_function(
        f"document.querySelector(\"tr.execution-row[data-id='{long['id']}']\")?.getAttribute('data-state') === 'KILLED'",
        timeout=30_000,
    )


def test_a_breached_sla_is_shown_on_the_execution_page(studio, page):
    flow = (
        "id: rows_sla\nnamespace: exec.sla\ntasks:\n  - {id: count, type: return, value: 3}\n"
        "sla:\n  - {id: enough_rows, type: assertion, assert: '{{ outputs.count.value > 5 }}', behavior: fail}\n"
    )
    failed = deploy_and_run(studio, flow, "exec.sla", "rows_sla")[0]
    assert failed["state"] == "FAILED" and [b["slaId"] for b in failed["slaBreaches"]] == ["enough_rows"]
    page.goto(f"{studio['url']}/executions/{failed['id']}")
    banner = page.locator(".sla-breach")
    banner.wait_for(timeout=15_000)
    assert banner.locator(".sla-breach-id").inner_text() == "SLA enough_rows"
    assert "(assertion, fail)" in banner.inner_text()
    assert banner.locator(".sla-breach-reason").inner_text() == "the assertion {{ outputs.count.value > 5 }} is false"
    assert "SLA 'enough_rows' breached" in page.locator("#execution-error").inner_text()
