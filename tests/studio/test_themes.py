"""Themes: light and dark (the system's preference by default, or the account box's switch), remembered per person
on the server; readable text in the dark theme on the editor (palette, nodes, YAML), and state badges coloured."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.core.errors import InvalidInput
from engine.identity import authz, users
from engine.identity.policy import Principal
from engine.store.database import open_database, session_scope
from studio.services import preferences
from tests.support.ids import unique
from tests.support.studio import sign_in

YAML = {"content-type": "application/x-yaml"}
FLOW = """\
id: themed
namespace: themes.tests
tasks:
  - id: greet
    type: log
    message: hello in the dark   # a YAML value
  - id: finish
    type: return
    value: done
"""
PASSWORD = "a themed password 1"

# The colour of an element's text and of the first opaque background behind it, as [r, g, b] lists.
COLOURS = """(selector) => {
  const element = document.querySelector(selector);
  if (!element) return null;
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  let node = element, background = null;
  while (node && node.nodeType === 1) {
    const value = rgb(getComputedStyle(node).backgroundColor);
    if (value.length >= 3 && (value.length === 3 || value[3] > 0.9)) { background = value.slice(0, 3); break; }
    node = node.parentElement;
  }
  if (!background) background = rgb(getComputedStyle(document.body).backgroundColor).slice(0, 3);
  return { text: rgb(getComputedStyle(element).color).slice(0, 3), background };
}"""


def _luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(page, selector: str) -> float:
    """WCAG contrast ratio of the element's text against its background."""
    colours = page.evaluate(COLOURS, selector)
    assert colours, f"nothing matches {selector}"
    light, dark = sorted((_luminance(colours["text"]), _luminance(colours["background"])), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def is_dark(page) -> bool:
    return page.evaluate("document.documentElement.classList.contains('dark')")


# --- the preference, server side ------------------------------------------------------------------------------


def test_a_person_s_theme_is_the_system_s_until_chosen_and_a_wrong_name_is_refused(db):
    with session_scope(db) as session:
        users.create_user(session, "ada", PASSWORD, actor="test")
    ada = Principal(name="ada")
    assert preferences.theme(ada) == "system"
    preferences.set_theme(ada, "dark")
    assert preferences.theme(ada) == "dark"
    with pytest.raises(InvalidInput, match="'purple' is not a theme: use one of system, light, dark"):
        preferences.set_theme(ada, "purple")
    preferences.set_theme(ada, "system")
    assert preferences.theme(ada) == "system"
    assert preferences.theme(authz.LOCAL) == "system"  # no users yet: nobody to remember a theme for


def test_the_api_reads_and_sets_the_theme(studio, admin_api):
    assert admin_api.get("/auth/me/preferences").json() == {"theme": "system"}
    refused = admin_api.put("/auth/me/preferences", json={"theme": "purple"})
    assert refused.status_code == 422 and "theme" in refused.text
    assert admin_api.put("/auth/me/preferences", json={"theme": "light"}).json() == {"theme": "light"}
    assert admin_api.put("/auth/me/preferences", json={"theme": "system"}).json() == {"theme": "system"}


# --- in a browser ---------------------------------------------------------------------------------------------

pytest_slow = pytest.mark.slow  # the browser tests (the service tests above are quick)


@pytest.fixture
def person(studio) -> tuple[str, str]:
    """A person of their own, so the theme they choose touches no other test."""
    name = unique("themer")
    engine = open_database(f"sqlite:///{studio['home'] / 'lanner.db'}")
    try:
        with session_scope(engine) as session:
            users.create_user(session, name, PASSWORD, actor="test", is_admin=True)
    finally:
        engine.dispose()
    return name, PASSWORD


def signed_in_page(browser, studio, person, scheme: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    sign_in(context, studio["url"], *person)
    return context, context.new_page()


def open_flows(page, studio) -> None:
    page.goto(f"{studio['url']}/flows")
    page.locator("#theme-select").wait_for(timeout=60_000)
    page.wait_for_timeout(500)  # the saved theme arrives with the page's load


@pytest_slow
def test_the_system_preference_is_followed_by_default(studio, browser, person):
    for scheme, dark in (("light", False), ("dark", True)):
        context, page = signed_in_page(browser, studio, person, scheme)
        try:
            open_flows(page, studio)
            assert is_dark(page) == dark, scheme
            assert page.locator("#theme-select").input_value() == "system"
        finally:
            context.close()


@pytest_slow
def test_the_switch_persists_across_reloads_and_browsers(studio, browser, person):
    context, page = signed_in_page(browser, studio, person, "light")
    try:
        open_flows(page, studio)
        assert not is_dark(page)
        page.select_option("#theme-select", "dark")
        page.wait_for_function("document.documentElement.classList.contains('dark')", timeout=10_000)
        page.reload()
        page.locator("#theme-select").wait_for(timeout=60_000)
        assert is_dark(page)  # from localStorage, before the server answers: no flash of light
        # The switch shows the person's choice once the server has said it (after the page's first load event).
        page.wait_for_function("document.querySelector('#theme-select')?.value === 'dark'", timeout=30_000)
    finally:
        context.close()
    # Another browser (nothing in its localStorage), light system: the person's saved choice wins.
    context, page = signed_in_page(browser, studio, person, "light")
    try:
        open_flows(page, studio)
        page.wait_for_function("document.documentElement.classList.contains('dark')", timeout=10_000)
        assert page.locator("#theme-select").input_value() == "dark"
        page.select_option("#theme-select", "light")
        page.wait_for_function("!document.documentElement.classList.contains('dark')", timeout=10_000)
    finally:
        context.close()
    # Light chosen, a dark system: light it is.
    context, page = signed_in_page(browser, studio, person, "dark")
    try:
        open_flows(page, studio)
        page.wait_for_function("!document.documentElement.classList.contains('dark')", timeout=10_000)
    finally:
        context.close()


@pytest_slow
def test_the_editor_is_readable_in_the_dark(studio, browser, person):
    context, page = signed_in_page(browser, studio, person, "dark")
    try:
        assert page.request.post(f"{studio['url']}/api/v1/flows", data=FLOW, headers=YAML).ok
        page.goto(f"{studio['url']}/flows/themes.tests/themed")
        page.locator(".lanner-node").first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        assert is_dark(page)
        checks = {
            "palette title": ".palette-item > div:first-child",
            "palette summary": ".palette-item > div:nth-child(2)",
            "node name": ".react-flow__node[data-id='greet'] .lanner-node > div:nth-child(2)",
            "node type": ".react-flow__node[data-id='greet'] .lanner-node > div:nth-child(3)",
            "YAML key": "#yaml-editor .cm-line:nth-child(4) span",
            "YAML text": "#yaml-editor .cm-line:nth-child(6)",
        }
        ratios = {name: contrast(page, selector) for name, selector in checks.items()}
        assert all(ratio >= 4.5 for ratio in ratios.values()), ratios
        # CodeMirror itself is dark, not a white editor.
        editor = page.evaluate(COLOURS, "#yaml-editor .cm-editor")
        assert _luminance(editor["background"]) < 0.1, editor
        if os.environ.get("LANNER_SCREENSHOTS"):  # the README's dark screenshot
            page.set_viewport_size({"width": 1280, "height": 720})
            page.wait_for_timeout(500)
            page.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs" / "editor-dark.png"))
    finally:
        context.close()


FAILING = """\
id: failing
namespace: themes.tests
tasks:
  - id: boom
    type: python
    script: |
      import sys
      sys.exit("failing on purpose")
"""


@pytest_slow
def test_state_badges_are_coloured_by_state(studio, browser, person, admin_api):
    ran = {}
    for source, flow_id in ((FLOW, "themed"), (FAILING, "failing")):
        assert admin_api.post("/flows", content=source, headers=YAML).status_code in (200, 201)
        trigger = f"/executions/trigger/themes.tests/{flow_id}"
        ran[flow_id] = admin_api.post(trigger, params={"wait": "true"}, json={}, timeout=60).json()
    assert [ran["themed"]["state"], ran["failing"]["state"]] == ["SUCCESS", "FAILED"], ran
    context, page = signed_in_page(browser, studio, person, "light")
    try:
        for flow_id, colour in (("themed", "green"), ("failing", "red")):
            page.goto(f"{studio['url']}/executions/{ran[flow_id]['id']}")
            badge = page.locator(f"#execution-state[data-state='{ran[flow_id]['state']}']")
            badge.wait_for(timeout=60_000)
            assert badge.get_attribute("data-accent-color") == colour, flow_id
        page.goto(f"{studio['url']}/executions?namespace=themes.tests")
        page.locator(".state-badge[data-state='FAILED']").first.wait_for(timeout=60_000)
        assert page.locator(".state-badge[data-state='FAILED']").first.get_attribute("data-accent-color") == "red"
        assert page.locator(".state-badge[data-state='SUCCESS']").first.get_attribute("data-accent-color") == "green"
    finally:
        context.close()
