"""Empty states that offer something to do: the Flows page's New flow, Import and blueprint gallery (never a
command line), and the executions, triggers, KV and namespace pages' own."""

from __future__ import annotations

import uuid

import pytest

from studio.components.empty_state import GALLERY_SIZE
from studio.services.blueprints import gallery
from tests.support.studio import api, sign_in

pytestmark = pytest.mark.slow


@pytest.fixture
def person(studio, browser):
    """A page signed in as a new person with ``role`` on a new namespace holding no flow: (page, namespace)."""
    contexts = []

    def make(role: str = "editor"):
        name = f"empty{uuid.uuid4().hex[:8]}"
        namespace = f"empty.{name}"
        admin = api(studio)
        assert admin.post("/api/v1/users", json={"username": name, "password": "pass-word-1"}).is_success
        answer = admin.put(f"/api/v1/namespaces/{namespace}/members/{name}", json={"role": role})
        assert answer.is_success, answer.text
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        contexts.append(context)
        sign_in(context, studio["url"], name, "pass-word-1")
        return context.new_page(), namespace

    yield make
    for context in contexts:
        context.close()


def test_an_editor_with_no_flow_gets_new_flow_import_and_blueprints(studio, person, tmp_path):
    page, namespace = person("editor")
    page.goto(f"{studio['url']}/flows")
    empty = page.locator("#flows-empty")
    empty.wait_for(timeout=60_000)
    text = empty.inner_text()
    assert "No flows yet" in text and "lanner" not in text.lower().replace("lanner flow", "") and "deploy" not in text
    cards = empty.locator(".empty-blueprint")
    assert cards.count() == min(GALLERY_SIZE, len(gallery()))
    # A blueprint opens the gallery's "use" dialog for it.
    first = cards.first.get_attribute("data-blueprint")
    cards.first.click()
    page.wait_for_url(f"**/blueprints?use={first}", timeout=20_000)
    page.locator("#use-create").wait_for(timeout=20_000)
    assert page.locator("#use-flow-id").input_value() == first

    # New flow, from the empty state itself.
    page.goto(f"{studio['url']}/flows")
    page.locator("#empty-new-flow").wait_for(timeout=60_000)
    page.locator("#empty-new-namespace").fill(namespace)
    page.locator("#empty-new-id").fill("first_flow")
    page.locator("#empty-new-flow").click()
    page.wait_for_url(f"**/flows/{namespace}/first_flow", timeout=20_000)
    page.locator(".lanner-node").first.wait_for(timeout=30_000)


def test_import_from_the_empty_flows_page(studio, person, tmp_path):
    page, namespace = person("editor")
    page.goto(f"{studio['url']}/flows")
    page.locator("#flows-empty").wait_for(timeout=60_000)
    good = tmp_path / "imported.yml"
    good.write_text(f"id: imported\nnamespace: {namespace}\ntasks:\n  - {{id: a, type: log, message: hi}}\n")
    page.set_input_files("#empty-import-upload input[type='file']", str(good))
    page.wait_for_url(f"**/flows/{namespace}/imported", timeout=20_000)
    page.locator(".react-flow__node[data-id='a']").wait_for(timeout=30_000)


def test_a_viewer_with_no_flow_sees_the_blueprints_but_no_create_controls(studio, person):
    page, _ = person("viewer")
    page.goto(f"{studio['url']}/flows")
    empty = page.locator("#flows-empty")
    empty.wait_for(timeout=60_000)
    assert "An editor of your namespace can create one" in empty.inner_text()
    assert page.locator("#empty-new-flow, #empty-import-upload").count() == 0
    assert empty.locator(".empty-blueprint").count() > 0


def test_a_search_without_match_offers_to_clear_it(studio, page, admin_api):
    admin_api.post(
        "/flows",
        content="id: findable\nnamespace: studio.tests\ntasks:\n  - {id: a, type: log, message: hi}\n",
        headers={"content-type": "application/x-yaml"},
    )
    page.goto(f"{studio['url']}/flows")
    page.locator("tr.flow-row").first.wait_for(timeout=60_000)
    page.locator("#flow-search").fill("no-such-flow-anywhere")
    empty = page.locator("#flows-empty", has_text="No flow matches your search")
    empty.wait_for(timeout=20_000)
    page.locator("#empty-clear-search").click()
    page.locator("tr.flow-row").first.wait_for(timeout=20_000)
    assert page.locator("#flows-empty").count() == 0


def test_other_empty_lists_say_what_to_do(studio, person):
    page, namespace = person("admin")
    page.goto(f"{studio['url']}/executions?namespace={namespace}")
    page.locator("#executions-empty").wait_for(timeout=60_000)
    assert "press Run" in page.locator("#executions-empty").inner_text()
    page.locator("#executions-empty #empty-open-flows").click()
    page.wait_for_url("**/flows", timeout=20_000)

    page.goto(f"{studio['url']}/triggers")
    triggers = page.locator("#triggers-empty")
    triggers.wait_for(timeout=60_000)
    assert "Add a schedule" in triggers.inner_text() and "triggers:" not in triggers.inner_text()

    page.goto(f"{studio['url']}/kv?namespace={namespace}")
    page.locator("#kv-empty").wait_for(timeout=60_000)
    assert "Set a KV entry" in page.locator("#kv-empty").inner_text()

    page.goto(f"{studio['url']}/namespace?namespace={namespace}")
    notes = page.locator(".empty-note")
    notes.first.wait_for(timeout=60_000)
    shown = " ".join(notes.all_inner_texts())
    assert "No variables yet" in shown and "No secrets yet" in shown
