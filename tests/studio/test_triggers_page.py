"""The triggers page in a real browser: next fire, the enable switch, and a backfill followed live."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.core.schedule import fire_times
from tests.support.studio import api

pytestmark = pytest.mark.slow

NAMESPACE = "trig.page"
FLOW = f"""\
id: nightly
namespace: {NAMESPACE}
inputs:
  - {{id: day, type: STRING, required: false}}
  - {{id: token, type: SECRET, required: false}}
tasks:
  - {{id: r, type: return, value: '{{{{ inputs.day }}}} {{{{ trigger.date }}}}'}}
triggers:
  - {{id: morning, type: schedule, cron: '0 6 * * *'}}
  - {{id: hook, type: webhook, key: page-test-key-1}}
"""
SECRET_VALUE = "hunter2-backfill-token"
ROW = f".trigger-row[data-namespace='{NAMESPACE}'][data-flow='nightly'][data-trigger='morning']"


def api_trigger(studio, trigger_id: str) -> dict:
    found = api(studio).get(f"{studio['url']}/api/v1/triggers", params={"namespace": NAMESPACE}, timeout=30).json()
    return next(t for t in found if t["flowId"] == "nightly" and t["id"] == trigger_id)


@pytest.fixture
def triggers_page(studio, page):
    response = api(studio).post(
        f"{studio['url']}/api/v1/flows", content=FLOW, headers={"content-type": "application/x-yaml"}, timeout=30
    )
    assert response.status_code < 300, response.text
    page.goto(f"{studio['url']}/triggers")
    page.locator(ROW).wait_for(timeout=60_000)
    return page


def test_row_switch_and_backfill(triggers_page, studio):
    page = triggers_page
    row = page.locator(ROW)
    expected = next(fire_times("0 6 * * *", "UTC", dt.datetime.now(dt.UTC), limit=1))
    assert expected.strftime("%Y-%m-%d 06:00 UTC") in row.locator(".next-fire").inner_text()
    assert "cron 0 6 * * * (UTC)" in row.inner_text()
    hook = page.locator(f".trigger-row[data-namespace='{NAMESPACE}'][data-trigger='hook']")
    assert f"/api/v1/webhooks/{NAMESPACE}/nightly/page-test-key-1" in hook.inner_text()
    assert hook.locator(".backfill-button").count() == 0  # only schedules backfill

    # The switch is the person's flag: off, then on again, as the engine sees it.
    row.locator(".trigger-switch").click()
    page.locator(f"{ROW}[data-state='disabled']").wait_for(timeout=20_000)
    assert api_trigger(studio, "morning")["enabled"] is False
    assert row.locator(".next-fire").inner_text().strip() == "-"
    row.locator(".trigger-switch").click()
    page.locator(f"{ROW}[data-state='enabled']").wait_for(timeout=20_000)
    assert api_trigger(studio, "morning")["enabled"] is True

    # A backfill: a bad range is refused in the dialog, then three daily slots run, followed live.
    row.locator(".backfill-button").click()
    page.locator("#backfill-dialog").wait_for(timeout=10_000)
    page.locator("#backfill-start").fill("2026-01-03T23:00")
    page.locator("#backfill-end").fill("2026-01-01T00:00")
    page.locator("input[name='backfill-input-day']").fill("hello")
    secret_field = page.locator("input[name='backfill-input-token']")
    assert secret_field.get_attribute("type") == "password"  # a SECRET input is not shown as it is typed
    secret_field.fill(SECRET_VALUE)
    page.locator("#backfill-submit").click()
    page.locator("#backfill-error").wait_for(timeout=10_000)
    assert "ends before it starts" in page.locator("#backfill-error").inner_text()
    page.locator("#backfill-start").fill("2026-01-01T00:00")
    page.locator("#backfill-end").fill("2026-01-03T23:00")
    page.locator("#backfill-submit").click()
    page.locator("#backfill-dialog").wait_for(state="detached", timeout=10_000)
    page.wait_for_function(
        f"document.querySelector(\"{ROW} .backfill-progress\")?.innerText.trim() === '3/3'", timeout=120_000
    )
    assert "done" in row.locator(".backfill-status").inner_text()
    executions = (
        api(studio)
        .get(f"{studio['url']}/api/v1/executions", params={"namespace": NAMESPACE, "flowId": "nightly"}, timeout=30)
        .json()
    )
    assert executions["total"] == 3
    dates = sorted(e["trigger"]["date"][:16] for e in executions["results"])
    assert dates == ["2026-01-01T06:00", "2026-01-02T06:00", "2026-01-03T06:00"]
    assert all(e["inputs"]["day"] == "hello" for e in executions["results"])
    assert all(e["inputs"]["token"] == "****" for e in executions["results"])
    backfill = api_trigger(studio, "morning")["backfill"]
    assert backfill["fired"] == 3 and backfill["inputs"]["token"] == "****" and "secretInputs" not in backfill
    assert SECRET_VALUE not in page.content()


SLOW_FLOW = f"""\
id: hourly
namespace: {NAMESPACE}.slow
tasks:
  - {{id: wait, type: sleep, duration: 1s}}
triggers:
  - {{id: every_hour, type: schedule, cron: '0 * * * *', timezone: Europe/Paris}}
"""
SLOW_ROW = ".trigger-row[data-flow='hourly'][data-trigger='every_hour']"


def test_backfill_pause_resume_cancel_and_namespace_filter(studio, page):
    response = api(studio).post(
        f"{studio['url']}/api/v1/flows", content=SLOW_FLOW, headers={"content-type": "application/x-yaml"}, timeout=30
    )
    assert response.status_code < 300, response.text
    page.goto(f"{studio['url']}/triggers")
    page.locator(SLOW_ROW).wait_for(timeout=60_000)
    page.locator("#namespace-select").click()
    page.get_by_role("option", name=f"{NAMESPACE}.slow", exact=True).click()
    page.wait_for_function(
        "[...document.querySelectorAll('.trigger-row')].every(r => r.dataset.flow === 'hourly')", timeout=20_000
    )
    row = page.locator(SLOW_ROW)
    assert "Europe/Paris" in row.locator(".next-fire").inner_text()

    row.locator(".backfill-button").click()
    page.locator("#backfill-start").fill("2026-02-01T00:00")
    page.locator("#backfill-end").fill("2026-02-02T23:00")
    page.locator("#backfill-submit").click()
    page.locator("#backfill-dialog").wait_for(state="detached", timeout=10_000)
    status = row.locator(".backfill-status")
    page.wait_for_function(
        f'/^[1-9][0-9]*\\/48$/.test(document.querySelector("{SLOW_ROW} .backfill-progress")?.innerText.trim())',
        timeout=60_000,
    )
    row.locator(".backfill-pause").click()
    page.locator(f"{SLOW_ROW} .backfill-resume").wait_for(timeout=10_000)
    assert status.inner_text() == "paused"
    assert api_backfill(studio)["paused"] is True
    row.locator(".backfill-resume").click()
    page.locator(f"{SLOW_ROW} .backfill-pause").wait_for(timeout=10_000)
    assert api_backfill(studio)["paused"] is False
    row.locator(".backfill-cancel").click()
    page.wait_for_function(
        f"document.querySelector(\"{SLOW_ROW} .backfill-status\")?.innerText === 'cancelled'", timeout=10_000
    )
    assert row.locator(".backfill-pause, .backfill-resume, .backfill-cancel").count() == 0
    assert api_backfill(studio)["cancelled"] is True
    fired = api_backfill(studio)["fired"]
    assert 0 < fired < 48


def api_backfill(studio) -> dict:
    found = (
        api(studio)
        .get(f"{studio['url']}/api/v1/triggers", params={"namespace": f"{NAMESPACE}.slow"}, timeout=30)
        .json()
    )
    return next(t for t in found if t["id"] == "every_hour")["backfill"]


def test_a_polling_trigger_shows_its_listener_live(studio, page):
    """``lanner server`` runs a trigger listener: a URL that answers shows connected with its counts, one that does
    not shows its error, both updating on the open page."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.support.ports import free_port

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    up, down = f"http://127.0.0.1:{server.server_address[1]}/ok", f"http://127.0.0.1:{free_port()}/nothing"
    flow = (
        f"id: polled\nnamespace: {NAMESPACE}.poll\ntasks:\n  - {{id: t, type: log, message: x}}\ntriggers:\n"
        f"  - {{id: up, type: http.trigger, uri: '{up}', interval: 1s, onChange: true}}\n"
        f"  - {{id: down, type: http.trigger, uri: '{down}', interval: 1s}}\n"
    )
    response = api(studio).post(
        f"{studio['url']}/api/v1/flows", content=flow, headers={"content-type": "application/x-yaml"}, timeout=30
    )
    assert response.status_code < 300, response.text
    page.goto(f"{studio['url']}/triggers")
    up_row = page.locator(".trigger-row[data-flow='polled'][data-trigger='up']")
    down_row = page.locator(".trigger-row[data-flow='polled'][data-trigger='down']")
    up_row.wait_for(timeout=60_000)
    assert f"every 1s: GET {up}" in up_row.inner_text()
    # Connected; the same answer polled again every second is recognised: one run, the others duplicates.
    page.wait_for_function(
        "(t => t && t.startsWith('connected;') && t.includes(' received, 1 started, '))"
        "(document.querySelector(\".trigger-row[data-trigger='up'] .trigger-listener\")?.innerText)",
        timeout=60_000,
    )
    page.wait_for_function(
        "document.querySelector(\".trigger-row[data-trigger='down'] .trigger-listener-error\")?.innerText"
        ".includes('ConnectError')",
        timeout=60_000,
    )
    assert "not connected" in down_row.locator(".trigger-listener").inner_text()
    server.shutdown()
