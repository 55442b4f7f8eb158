"""A pipeline built in a real browser from the palette and the task forms only (no YAML typed in the editor): a
SQLite query storing its rows as a file, a DuckDB transform of that file, and a webhook notification to a local
recorder; saved, run, and the transformed file previewed in the execution's Outputs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.studio import api
from tests.support.webhooks import Recorder, webhook_server

pytestmark = pytest.mark.slow
NAMESPACE, FLOW = "studio.lowcode", "pipeline"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A local server standing in for the webhook the pipeline notifies (tests/support/webhooks.py)."""
    with webhook_server() as server:
        yield server


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A SQLite shop the studio's workers can read (they run on this machine): five orders, two stores."""
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER, store TEXT, amount REAL)")
        connection.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)",
            [(1, "paris", 10.5), (2, "paris", 4.5), (3, "london", 7.0), (4, "london", 3.0), (5, "lab", 0.0)],
        )
    return path


def drop(page, task_type: str, x: int, y: int) -> str:
    """Drag a palette item onto the canvas; the id the new task got."""
    before = set(page.locator(".react-flow__node").evaluate_all("nodes => nodes.map(n => n.dataset.id)"))
    page.drag_and_drop(
        f".palette-item[data-type='{task_type}']", ".react-flow__pane", target_position={"x": x, "y": y}, force=True
    )
    page.wait_for_function(
        f"document.querySelectorAll('.react-flow__node').length === {len(before) + 1}", timeout=10_000
    )
    [new] = set(page.locator(".react-flow__node").evaluate_all("nodes => nodes.map(n => n.dataset.id)")) - before
    return new


def fill(page, field: str, text: str) -> None:
    """Type a property's value in the selected task's form (a code field: text, SQL or YAML), then leave it."""
    editor = page.locator(f"#form-panel .code-field[data-field='{field}'] .cm-content")
    editor.wait_for(timeout=10_000)
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.locator("#form-panel .code-field[data-field='description'] .cm-content").click()  # blur commits


def choose(page, field: str, option: str) -> None:
    """Pick a property's value from its list, or type it where the form offers text (a value that may also be an
    expression)."""
    listed = page.locator(f"#form-panel .form-row[data-name='{field}'] button[role='combobox']")
    if listed.count():
        listed.click()
        page.get_by_role("option", name=option, exact=True).click()
    else:
        fill(page, field, option)


def clear_map(page, field: str) -> None:
    """Remove every entry of a mapping property (the example the task started from), then leave the widget."""
    entries = page.locator(f"#form-panel .kv-field[data-field='{field}'] .kv-remove")
    while entries.count():
        entries.first.click()
    page.locator("#form-panel .code-field[data-field='description'] .cm-content").click()


def yaml_has(page, text: str) -> None:
    page.click("#pane-yaml")
    try:
        page.wait_for_function(
            "t => document.querySelector('#yaml-editor .cm-content')?.innerText.includes(t)", arg=text, timeout=10_000
        )
    except Exception:
        shown = page.locator("#yaml-editor .cm-content").inner_text() if page.locator("#yaml-editor").count() else ""
        raise AssertionError(f"the YAML never showed {text!r}; it shows:\n{shown}") from None


def select(page, task_id: str) -> None:
    page.locator(f".react-flow__node[data-id='{task_id}']").click()
    page.locator("#form-panel").wait_for(timeout=10_000)


@pytest.mark.timeout(600)
def test_a_pipeline_built_from_the_palette_and_forms_runs_and_its_file_is_previewed(studio, page, shop, recorder):
    page.goto(f"{studio['url']}/flows")
    page.locator("tr.flow-row").first.wait_for(timeout=60_000)
    page.fill("input[name='new-namespace']", NAMESPACE)
    page.fill("input[name='new-id']", FLOW)
    page.click("#create-flow")
    page.wait_for_url(f"**/flows/{NAMESPACE}/{FLOW}", timeout=15_000)
    page.locator(".react-flow__node[data-id='hello']").wait_for(timeout=30_000)

    query = drop(page, "sqlite.query", 150, 40)
    select(page, query)
    fill(page, "url", f"sqlite:///{shop}")
    fill(page, "sql", "SELECT id, store, amount FROM orders ORDER BY id")
    clear_map(page, "parameters")  # the example's :day parameter; this query has none
    choose(page, "fetch", "STORE")
    yaml_has(page, "fetch: STORE")

    transform = drop(page, "data.transform", 150, 160)
    select(page, transform)
    fill(page, "from", f"{{{{ outputs.{query}.uri }}}}")
    fill(
        page,
        "steps",
        "- filter: amount > 0\n"
        "- groupBy:\n    by: [store]\n    aggregate:\n      total: {sum: amount}\n"
        "- sort: [store]\n",
    )
    choose(page, "format", "CSV")
    yaml_has(page, f"from: '{{{{ outputs.{query}.uri }}}}'")

    notify = drop(page, "notify.webhook", 150, 500)
    select(page, notify)
    fill(page, "url", f"{recorder.url}/hook")
    clear_map(page, "headers")  # the example's Authorization header reads a secret this namespace lacks
    fill(page, "payload", f"{{rows: '{{{{ outputs.{transform}.rows }}}}', file: '{{{{ outputs.{transform}.uri }}}}'}}")
    yaml_has(page, f"{recorder.url}/hook")

    page.locator(".react-flow__node[data-id='hello']").click()
    page.keyboard.press("Delete")  # the new flow's greeting goes: only the three tasks remain
    page.wait_for_function("document.querySelectorAll('.react-flow__node').length === 3", timeout=10_000)
    page.click("#save-button")
    page.wait_for_function(
        "(document.querySelector('#editor-message')?.innerText ?? '').includes('revision')", timeout=10_000
    )
    saved = api(studio).get(
        f"{studio['url']}/api/v1/flows/{NAMESPACE}/{FLOW}", headers={"accept": "application/x-yaml"}
    )
    assert "type: sqlite.query" in saved.text and "type: data.transform" in saved.text, saved.text

    page.click("#run-button")
    page.click("#start-run")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=120_000)
    [message] = recorder.bodies
    assert message["rows"] in (2, "2") and message["file"].startswith("lanner://"), message

    found = api(studio).get(f"{studio['url']}/api/v1/executions", params={"namespace": NAMESPACE, "flowId": FLOW})
    execution_id = found.json()["results"][0]["id"]
    page.goto(f"{studio['url']}/executions/{execution_id}")
    page.wait_for_function("document.querySelector('#execution-state')?.innerText === 'SUCCESS'", timeout=30_000)
    page.click("#tab-outputs")
    row = page.locator("tr.output-file", has_text=transform)
    row.first.wait_for(timeout=15_000)
    row.first.get_by_role("button", name="Preview").click()
    page.wait_for_function("document.querySelector('#file-preview')?.dataset.kind === 'table'", timeout=15_000)
    preview = page.locator("#file-preview")
    assert [h.inner_text() for h in preview.locator("th").all()] == ["store", "total"]
    cells = [[c.inner_text() for c in r.locator("td").all()] for r in preview.locator("tbody tr").all()]
    assert cells == [["london", "10"], ["paris", "15"]], cells  # the lab's zero order filtered out
