"""Automated accessibility checks: axe-core (npm, pinned in the Makefile) on every studio page, in the light and
the dark theme (the system's preference, emulated, and the theme switch): no serious or critical violation."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.identity.share_links import create_share_link
from engine.store.database import open_database, session_scope
from engine.store.tables import utcnow
from tests.support.axe import axe_script, blocking_violations
from tests.support.studio import api, running_studio, sign_in

pytestmark = pytest.mark.slow

YAML = {"content-type": "application/x-yaml"}
NAMESPACE = "a11y.checks"
FLOW = f"""\
id: checked
namespace: {NAMESPACE}
inputs:
  - id: who
    type: STRING
    defaults: world
triggers:
  - id: daily
    type: schedule
    cron: "0 6 * * *"
    disabled: true
tasks:
  - id: hello
    type: log
    message: "hello {{{{ inputs.who }}}}"
  - id: done
    type: return
    value: ok
"""
# Each signed-in page, with what shows once it has loaded.
PAGES = {
    "flows": ("/flows", ".nav-link"),
    "editor": (f"/flows/{NAMESPACE}/checked", ".lanner-node"),
    "blueprints": ("/blueprints", ".nav-link"),
    "executions": ("/executions", ".nav-link"),
    "execution": ("/executions/{execution}", ".nav-link"),
    "dashboard": ("/dashboard", ".js-plotly-plot"),
    "triggers": ("/triggers", ".nav-link"),
    "namespace": (f"/namespace?namespace={NAMESPACE}", ".nav-link"),
    "kv": (f"/kv?namespace={NAMESPACE}", ".nav-link"),
    "audit": ("/audit", ".nav-link"),
    "account": ("/account", ".nav-link"),
    "users": ("/users", ".nav-link"),
    "cluster": ("/cluster", ".cluster-process"),
}


@pytest.fixture(scope="module")
def seeded(studio) -> dict:
    """A flow with inputs and a trigger, one execution of it, a KV entry and a share link of the flow."""
    client = api(studio)
    assert client.post("/api/v1/flows", content=FLOW, headers=YAML).status_code in (200, 201)
    execution = client.post(f"/api/v1/executions/trigger/{NAMESPACE}/checked", params={"wait": "true"}, json={})
    assert execution.json()["state"] == "SUCCESS", execution.text
    assert client.put(f"/api/v1/namespaces/{NAMESPACE}/kv/greeting", json={"value": "hi"}).is_success
    engine = open_database(f"sqlite:///{studio['home'] / 'lanner.db'}")
    try:
        with session_scope(engine) as session:
            _, token = create_share_link(session, "flow", NAMESPACE, "checked", created_by="test",
                                         expires_at=utcnow() + dt.timedelta(days=1))  # fmt: skip
    finally:
        engine.dispose()
    return {"execution": execution.json()["id"], "share": token}


def settle(page, ready: str) -> None:
    """Wait for the page's content (not the loading spinner) and for the theme to be applied."""
    page.locator(ready).first.wait_for(timeout=60_000)
    page.wait_for_function("!document.querySelector('.rt-Spinner')", timeout=30_000)
    page.wait_for_timeout(700)  # fonts, the theme's class and late layout


def check(page, url: str, ready: str, dark: bool) -> list[str]:
    page.goto(url)
    settle(page, ready)
    assert page.evaluate("document.documentElement.classList.contains('dark')") == dark, url
    return [f"{url}: {line}" for line in blocking_violations(page)]


@pytest.fixture(params=["light", "dark"])
def scheme(request) -> str:
    axe_script()  # skip early (no npm) before any browser work
    return request.param


@pytest.mark.parametrize("name", PAGES)
def test_every_signed_in_page_passes_axe(studio, browser, seeded, scheme, name):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    sign_in(context, studio["url"], *studio["admin"])
    page = context.new_page()
    try:
        path, ready = PAGES[name]
        found = check(page, studio["url"] + path.format(**seeded), ready, scheme == "dark")
        assert not found, "\n".join(found)
    finally:
        context.close()


@pytest.mark.parametrize("name", ["login", "share"])
def test_public_pages_pass_axe(studio, browser, seeded, scheme, name):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        if name == "login":
            found = check(page, f"{studio['url']}/login", "#sign-in-submit", scheme == "dark")
        else:
            found = check(page, f"{studio['url']}/share/{seeded['share']}", ".lanner-node", scheme == "dark")
        assert not found, "\n".join(found)
    finally:
        context.close()


def test_pages_pass_axe_in_the_dark_theme_chosen_with_the_switch(studio, browser, seeded):
    """A light system, dark chosen in the account box: the pages follow the switch and stay accessible."""
    axe_script()
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme="light")
    sign_in(context, studio["url"], *studio["admin"])
    page = context.new_page()
    try:
        page.goto(f"{studio['url']}/flows")
        settle(page, ".nav-link")
        page.select_option("#theme-select", "dark")
        page.wait_for_function("document.documentElement.classList.contains('dark')", timeout=10_000)
        found = []
        for name in ("flows", "editor", "execution", "dashboard", "account"):
            path, ready = PAGES[name]
            found += check(page, studio["url"] + path.format(**seeded), ready, True)
        assert not found, "\n".join(found)
    finally:
        # The shared administrator's theme as it was, even when a check failed: later tests sign in as them.
        page.request.put(f"{studio['url']}/api/v1/auth/me/preferences", data={"theme": "system"})
        context.close()


@pytest.fixture(scope="module")
def fresh_studio(tmp_path_factory):
    """A studio on a fresh install: it asks for the first administrator (the setup page)."""
    with running_studio(tmp_path_factory.mktemp("fresh-a11y"), admin=None) as running:
        yield running


def test_the_setup_page_passes_axe(fresh_studio, browser, scheme):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        found = check(page, f"{fresh_studio['url']}/setup", "#sign-in-submit", scheme == "dark")
        assert not found, "\n".join(found)
    finally:
        context.close()


def test_question_mark_opens_the_keyboard_shortcut_help(studio, page, seeded):
    page.goto(f"{studio['url']}/flows/{NAMESPACE}/checked")
    settle(page, ".lanner-node")
    page.locator("#palette-search").press("?")  # typing a ? in a field is text, not the shortcut
    page.wait_for_timeout(500)
    assert page.locator("#shortcut-help").count() == 0
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    help_dialog = page.locator("#shortcut-help")
    help_dialog.wait_for(timeout=10_000)
    text = help_dialog.inner_text()
    for keys in ("Ctrl+S", "Ctrl+Z", "Shift+Ctrl+Z", "Delete", "Ctrl+C", "Ctrl+V", "Arrow keys", "?"):
        assert keys in text, keys
    assert not blocking_violations(page)  # the dialog itself is accessible
    page.keyboard.press("Escape")
    help_dialog.wait_for(state="detached", timeout=10_000)
    page.click("#shortcut-help-button")  # also offered in the account box
    help_dialog.wait_for(timeout=10_000)
